// Logit bias: fixed amounts added to chosen tokens' logits (-infinity bans a token).
#include <algorithm>
#include <vector>

#include "sampler/candidates.h"
#include "sampler/samplers.h"

namespace bitnet::sampling {
namespace {

class LogitBiasSampler final : public bitnet_sampler {
public:
    LogitBiasSampler(int32_t n_vocab, std::span<const bitnet_logit_bias> biases) : n_vocab_(n_vocab) {
        // One entry per token, the biases of a repeated token summed.
        std::vector<bitnet_logit_bias> sorted(biases.begin(), biases.end());
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const bitnet_logit_bias &a, const bitnet_logit_bias &b) { return a.token < b.token; });
        for (const bitnet_logit_bias &bias : sorted) {
            if (!biases_.empty() && biases_.back().token == bias.token) {
                biases_.back().bias += bias.bias;
            } else {
                biases_.push_back(bias);
            }
        }
        misses_.reserve(biases_.size());
    }

    const char *name() const override { return "logit-bias"; }
    int32_t vocab_size() const override { return n_vocab_; }

    void apply(bitnet_token_data_array &candidates) override {
        if (biases_.empty()) return;
        for_each_listed_token(candidates, biases_, misses_,
                              [](bitnet_token_data &candidate, const bitnet_logit_bias &bias) { candidate.logit += bias.bias; });
        candidates.sorted = false;
    }

private:
    int32_t n_vocab_;
    std::vector<bitnet_logit_bias> biases_;
    std::vector<bitnet_logit_bias> misses_;
};

}  // namespace

std::unique_ptr<bitnet_sampler> make_logit_bias(int32_t n_vocab, std::span<const bitnet_logit_bias> biases) {
    return std::make_unique<LogitBiasSampler>(n_vocab, biases);
}

}  // namespace bitnet::sampling
