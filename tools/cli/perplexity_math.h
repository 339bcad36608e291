// The arithmetic of `bitnet perplexity`: log-softmax of one logit row in double, the perplexity
// statistics and the KL-divergence statistics, written after llama.cpp's llama-perplexity
// (examples/perplexity/perplexity.cpp, later tools/perplexity/) so that the numbers compare one to
// one. Pure functions over plain arrays: no model, no context, testable on hand-made rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bitnet_cli {

// One row of logits reduced to what a log-probability needs, in double:
// log p(i) = logits[i] - log_sum_exp.
struct LogitRow {
    double log_sum_exp = 0.0;  // log(sum_i exp(logits[i])), computed as max + log(sum exp(l - max))
    int32_t argmax = 0;        // the most likely token (the lowest id among equal logits)
};
LogitRow summarize_logits(const float *logits, int32_t n_vocab);

// Running perplexity over scored tokens, as llama-perplexity accumulates it: the sum of the
// negative log-likelihoods and of their squares, in the order the tokens are added.
class PerplexityStats {
public:
    void add(double nll) {
        nll_sum_ += nll;
        nll2_sum_ += nll * nll;
        ++count_;
    }
    size_t count() const { return count_; }
    // exp(mean nll): the value printed after each chunk ("[k]ppl,").
    double ppl() const;
    // llama-perplexity's "+/-": the standard error of the mean nll, sqrt((E[nll^2] - E[nll]^2) /
    // (count - 1)), times ppl (the first-order error of exp). Negative when undefined (fewer than
    // two tokens, or a variance that rounds to <= 0: llama.cpp then prints "Unexpected negative
    // standard deviation of log(prob)").
    double uncertainty() const;
    double mean_nll() const { return count_ ? nll_sum_ / static_cast<double>(count_) : 0.0; }

private:
    double nll_sum_ = 0.0;
    double nll2_sum_ = 0.0;
    size_t count_ = 0;
};

// What comparing one scored token's distribution with the base distribution gives.
struct TokenDivergence {
    double kld = 0.0;          // KL(P_base || P_current) in nats, over the whole vocabulary
    bool same_top = false;     // both put the most probability on the same token
    double dp_token = 0.0;     // p_current(next token) - p_base(next token): llama.cpp's Δp
    double dp_base_top = 0.0;  // p_current(t) - p_base(t) for the base's top token t
    double nll_base = 0.0;     // -log p_base(next token)
    double nll_current = 0.0;  // -log p_current(next token)
};
// `next` is the text's token that the rows predict. All sums in double over every token (llama.cpp
// skips base log-probabilities below -16 because it stores them in 16 bits; the base file here
// keeps the exact float logits, so nothing is skipped).
TokenDivergence compare_rows(const float *base_logits, const float *current_logits, int32_t n_vocab,
                             int32_t next);

// The value at `fraction` (0..1) of sorted values, interpolated linearly between the two nearest
// ranks (llama-perplexity's percentile: position fraction * (n - 1)). Empty input gives 0.
double percentile(const std::vector<double> &sorted, double fraction);

// Mean and standard error of the mean (sqrt(var / (n - 1)), llama.cpp's "±"); error 0 for n < 2.
struct MeanError {
    double mean = 0.0;
    double error = 0.0;
};
MeanError mean_and_error(const std::vector<double> &values);

// The statistics llama-perplexity prints for --kl-divergence.
struct DivergenceSummary {
    size_t count = 0;
    MeanError kld;
    double kld_max = 0.0, kld_p999 = 0.0, kld_p99 = 0.0, kld_p95 = 0.0, kld_p90 = 0.0, kld_median = 0.0;
    double kld_p10 = 0.0, kld_p5 = 0.0, kld_p1 = 0.0, kld_p01 = 0.0, kld_min = 0.0;
    MeanError dp_token;     // mean Δp of the text's next token (fraction, not %)
    double dp_rms = 0.0;    // sqrt(mean Δp^2)
    MeanError dp_base_top;  // mean Δp of the base's top token
    MeanError same_top;     // fraction of tokens with the same top token, error sqrt(p(1-p)/(n-1))
    double ppl_base = 0.0, ppl_current = 0.0;
    MeanError ln_ppl_ratio;  // mean of nll_current - nll_base = ln(PPL(current) / PPL(base))
};
DivergenceSummary summarize_divergence(const std::vector<TokenDivergence> &tokens);

}  // namespace bitnet_cli
