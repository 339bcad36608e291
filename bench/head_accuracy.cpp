// head-accuracy: what re-encoding the lm_head costs in accuracy. Runs one token sequence through
// the model with the head as stored and with each re-encoded head type, and reports the mean and
// largest KL divergence KL(P_stored || P_type) of the next-token distributions, and how often the
// top token changes.
//   head-accuracy -m MODEL [-n 256] [-t 2] [--seed 1]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bitnet.h"

namespace {

void check(bitnet_status status, const char *what) {
    if (status == BITNET_OK) return;
    std::fprintf(stderr, "head-accuracy: %s: %s: %s\n", what, bitnet_status_string(status), bitnet_last_error());
    std::exit(1);
}

// Logits of every position of `tokens`, with the head re-encoded as `head`.
std::vector<std::vector<double>> all_logits(const std::string &path, bitnet_head_type head,
                                            const std::vector<bitnet_token> &tokens, int threads) {
    bitnet_model_params model_params = bitnet_model_default_params();
    model_params.head_type = head;
    bitnet_model *model = nullptr;
    check(bitnet_model_load_file(path.c_str(), &model_params, &model), "load");
    const uint32_t n = static_cast<uint32_t>(tokens.size());
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = n;
    params.n_batch = n;
    params.n_outputs_max = n;
    params.n_threads = threads;
    params.backend = BITNET_BACKEND_CPU;
    bitnet_context *context = nullptr;
    check(bitnet_context_new(model, &params, &context), "context");
    bitnet_batch *batch = nullptr;
    check(bitnet_batch_new(static_cast<int32_t>(n), &batch), "batch");
    const int32_t seq = 0;
    for (uint32_t i = 0; i < n; ++i) bitnet_batch_add(batch, tokens[i], static_cast<int32_t>(i), &seq, 1, true);
    check(bitnet_decode(context, batch), "decode");
    const int32_t n_vocab = bitnet_model_n_vocab(model);
    std::vector<std::vector<double>> out;
    for (uint32_t i = 0; i < n; ++i) {
        const float *logits = bitnet_get_logits(context, static_cast<int32_t>(i));
        out.emplace_back(logits, logits + n_vocab);
    }
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return out;
}

std::vector<double> softmax(const std::vector<double> &logits) {
    double max = logits[0];
    for (double v : logits) max = std::max(max, v);
    std::vector<double> p(logits.size());
    double sum = 0;
    for (size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(logits[i] - max);
    for (double &v : p) v /= sum;
    return p;
}

}  // namespace

int main(int argc, char **argv) {
    std::string path;
    int n = 256, threads = 2;
    unsigned seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string arg = argv[i];
        if (arg == "-m") path = argv[i + 1];
        else if (arg == "-n") n = std::atoi(argv[i + 1]);
        else if (arg == "-t") threads = std::atoi(argv[i + 1]);
        else if (arg == "--seed") seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
    }
    if (path.empty() || n < 2) {
        std::fprintf(stderr, "usage: head-accuracy -m MODEL [-n 256] [-t 2] [--seed 1]\n");
        return 2;
    }
    bitnet_model *probe = nullptr;
    bitnet_model_params vocab_only = bitnet_model_default_params();
    vocab_only.vocab_only = true;
    check(bitnet_model_load_file(path.c_str(), &vocab_only, &probe), "load");
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> pick(0, bitnet_model_n_vocab(probe) - 1);
    bitnet_model_free(probe);
    std::vector<bitnet_token> tokens(static_cast<size_t>(n));
    for (auto &t : tokens) t = pick(random);

    auto stored = all_logits(path, BITNET_HEAD_AS_STORED, tokens, threads);
    std::printf("%d positions of %s; KL(stored head || re-encoded head) in nats\n\n", n, path.c_str());
    std::printf("| head | mean KL | max KL | top-1 changed |\n|---|---:|---:|---:|\n");
    const struct {
        bitnet_head_type type;
        const char *name;
    } heads[] = {{BITNET_HEAD_F16, "f16"}, {BITNET_HEAD_Q8_0, "q8_0"}, {BITNET_HEAD_Q6_K, "q6_k"}, {BITNET_HEAD_Q4_0, "q4_0"}};
    for (const auto &head : heads) {
        auto other = all_logits(path, head.type, tokens, threads);
        double total = 0, worst = 0;
        int changed = 0;
        for (int pos = 0; pos < n; ++pos) {
            std::vector<double> p = softmax(stored[pos]), q = softmax(other[pos]);
            double kl = 0;
            size_t best_p = 0, best_q = 0;
            for (size_t i = 0; i < p.size(); ++i) {
                if (p[i] > 0) kl += p[i] * (std::log(p[i]) - std::log(std::max(q[i], 1e-300)));
                if (p[i] > p[best_p]) best_p = i;
                if (q[i] > q[best_q]) best_q = i;
            }
            total += kl;
            worst = std::max(worst, kl);
            changed += best_p != best_q;
        }
        std::printf("| %s | %.3g | %.3g | %d of %d |\n", head.name, total / n, worst, changed, n);
    }
    return 0;
}
