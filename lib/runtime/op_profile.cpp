#include "runtime/op_profile.h"

#include <cstdio>

#include "tensor/tensor_type.h"

namespace bitnet {

void OpProfile::begin(const BatchPlan &plan) {
    ++decodes_;
    tokens_ += static_cast<uint64_t>(plan.n_tokens);
    inner_.begin(plan);
}
void OpProfile::embed(const Weight &token_embd) { timed(Embed, [&] { inner_.embed(token_embd); }); }
void OpProfile::rms_norm(Act in, const Weight &weight, Act out) { timed(RmsNorm, [&] { inner_.rms_norm(in, weight, out); }); }
void OpProfile::project(const Weight &weight, Act in, Act out) {
    timed(tensor_type_traits(weight.type).ternary ? ProjectTernary : ProjectFloat, [&] { inner_.project(weight, in, out); });
}
void OpProfile::rope(Act buffer, int32_t n_heads) { timed(Rope, [&] { inner_.rope(buffer, n_heads); }); }
void OpProfile::attention(int32_t layer) { timed(Attention, [&] { inner_.attention(layer); }); }
void OpProfile::gated_activation(FfnActivation activation) {
    timed(Activation, [&] { inner_.gated_activation(activation); });
}
void OpProfile::add(Act into, Act from) { timed(Add, [&] { inner_.add(into, from); }); }
void OpProfile::output(const Weight &lm_head, Act normed) { timed(Output, [&] { inner_.output(lm_head, normed); }); }
void OpProfile::end() { timed(Finish, [&] { inner_.end(); }); }

std::string OpProfile::report() const {
    static const char *const kNames[kKinds] = {"embed", "rms_norm", "project (ternary)", "project (float)", "rope",
                                               "attention", "gated_activation", "add", "output (lm_head)", "end"};
    double total = 0.0;
    for (const Totals &t : totals_) total += t.seconds;
    std::string text;
    char line[160];
    std::snprintf(line, sizeof line, "profile: %llu decodes, %llu tokens, %.1f ms in ops\n",
                  static_cast<unsigned long long>(decodes_), static_cast<unsigned long long>(tokens_), total * 1e3);
    text += line;
    for (int k = 0; k < kKinds; ++k) {
        if (totals_[k].calls == 0) continue;
        std::snprintf(line, sizeof line, "  %-18s %10.2f ms %8llu calls  longest %8.3f ms %6.1f%%\n", kNames[k],
                      totals_[k].seconds * 1e3, static_cast<unsigned long long>(totals_[k].calls),
                      totals_[k].longest * 1e3, total > 0.0 ? 100.0 * totals_[k].seconds / total : 0.0);
        text += line;
    }
    return text;
}

}  // namespace bitnet
