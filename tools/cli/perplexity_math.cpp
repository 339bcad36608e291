#include "perplexity_math.h"

#include <algorithm>
#include <cmath>

namespace bitnet_cli {

LogitRow summarize_logits(const float *logits, int32_t n_vocab) {
    LogitRow row;
    double max_logit = logits[0];
    for (int32_t i = 1; i < n_vocab; ++i) {
        if (logits[i] > max_logit) {
            max_logit = logits[i];
            row.argmax = i;
        }
    }
    // Subtracting the maximum keeps every exp() in (0, 1]: no overflow whatever the logits' range.
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max_logit);
    row.log_sum_exp = max_logit + std::log(sum);
    return row;
}

double PerplexityStats::ppl() const { return std::exp(mean_nll()); }

double PerplexityStats::uncertainty() const {
    if (count_ < 2) return -1.0;
    const double n = static_cast<double>(count_);
    const double mean = nll_sum_ / n;
    const double variance = nll2_sum_ / n - mean * mean;
    if (!(variance > 0.0)) return -1.0;
    return std::sqrt(variance / (n - 1.0)) * std::exp(mean);
}

TokenDivergence compare_rows(const float *base_logits, const float *current_logits, int32_t n_vocab,
                             int32_t next) {
    const LogitRow base = summarize_logits(base_logits, n_vocab);
    const LogitRow current = summarize_logits(current_logits, n_vocab);
    TokenDivergence out;
    double kld = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) {
        const double log_p_base = base_logits[i] - base.log_sum_exp;
        const double log_p_current = current_logits[i] - current.log_sum_exp;
        kld += std::exp(log_p_base) * (log_p_base - log_p_current);
    }
    out.kld = kld;
    out.same_top = base.argmax == current.argmax;
    out.nll_base = base.log_sum_exp - base_logits[next];
    out.nll_current = current.log_sum_exp - current_logits[next];
    out.dp_token = std::exp(-out.nll_current) - std::exp(-out.nll_base);
    const int32_t top = base.argmax;
    out.dp_base_top = std::exp(current_logits[top] - current.log_sum_exp) - std::exp(base_logits[top] - base.log_sum_exp);
    return out;
}

double percentile(const std::vector<double> &sorted, double fraction) {
    if (sorted.empty()) return 0.0;
    if (fraction <= 0.0) return sorted.front();
    if (fraction >= 1.0) return sorted.back();
    const double position = fraction * static_cast<double>(sorted.size() - 1);
    const size_t below = static_cast<size_t>(position);
    const double weight = position - static_cast<double>(below);
    const size_t above = std::min(below + 1, sorted.size() - 1);
    return (1.0 - weight) * sorted[below] + weight * sorted[above];
}

MeanError mean_and_error(const std::vector<double> &values) {
    MeanError out;
    if (values.empty()) return out;
    const double n = static_cast<double>(values.size());
    double sum = 0.0, sum2 = 0.0;
    for (double v : values) {
        sum += v;
        sum2 += v * v;
    }
    out.mean = sum / n;
    const double variance = sum2 / n - out.mean * out.mean;
    if (values.size() > 1 && variance > 0.0) out.error = std::sqrt(variance / (n - 1.0));
    return out;
}

DivergenceSummary summarize_divergence(const std::vector<TokenDivergence> &tokens) {
    DivergenceSummary s;
    s.count = tokens.size();
    if (tokens.empty()) return s;
    std::vector<double> kld, dp, dp_top, ln_ratio;
    double nll_base = 0.0, nll_current = 0.0, dp2 = 0.0;
    size_t same = 0;
    for (const TokenDivergence &t : tokens) {
        kld.push_back(t.kld);
        dp.push_back(t.dp_token);
        dp_top.push_back(t.dp_base_top);
        ln_ratio.push_back(t.nll_current - t.nll_base);
        nll_base += t.nll_base;
        nll_current += t.nll_current;
        dp2 += t.dp_token * t.dp_token;
        same += t.same_top ? 1 : 0;
    }
    const double n = static_cast<double>(tokens.size());
    s.kld = mean_and_error(kld);
    s.dp_token = mean_and_error(dp);
    s.dp_base_top = mean_and_error(dp_top);
    s.ln_ppl_ratio = mean_and_error(ln_ratio);
    s.dp_rms = std::sqrt(dp2 / n);
    s.ppl_base = std::exp(nll_base / n);
    s.ppl_current = std::exp(nll_current / n);
    s.same_top.mean = static_cast<double>(same) / n;
    if (tokens.size() > 1) s.same_top.error = std::sqrt(s.same_top.mean * (1.0 - s.same_top.mean) / (n - 1.0));

    std::sort(kld.begin(), kld.end());
    s.kld_min = kld.front();
    s.kld_max = kld.back();
    s.kld_median = percentile(kld, 0.5);
    s.kld_p999 = percentile(kld, 0.999);
    s.kld_p99 = percentile(kld, 0.99);
    s.kld_p95 = percentile(kld, 0.95);
    s.kld_p90 = percentile(kld, 0.90);
    s.kld_p10 = percentile(kld, 0.10);
    s.kld_p5 = percentile(kld, 0.05);
    s.kld_p1 = percentile(kld, 0.01);
    s.kld_p01 = percentile(kld, 0.001);
    return s;
}

}  // namespace bitnet_cli
