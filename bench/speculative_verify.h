// bitnet-bench -spec-verify K1[,K1...]: the cost of a speculative verification. Each decode call
// carries K1 = K + 1 consecutive tokens of ONE sequence (the last accepted token and K drafted
// ones), with logits for every token, as a verifier needs; reported as ms per call and the ratio
// to a one-token call. On a bandwidth-bound model a K1-token call reads the weights once, as a
// one-token call does: speculation pays when (accepted tokens per call + 1) exceeds that ratio.
// Kept apart from bitnet_bench.cpp like parallel_sequences.h: it needs its own context
// (n_outputs_max = K1).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bitnet.h"
#include "bench_common.h"

namespace bitnet_bench {

struct VerifyResult {
    int n_tokens = 0;                                // K + 1 tokens per call
    double ms_median = 0, ms_min = 0, ms_max = 0;    // per call, medians over repetitions
};

// One run from an empty cache: an n_prompt-token prompt, then n_calls calls of n_tokens tokens
// (positions advance as if every draft were accepted, so the attention span grows as in use).
// Returns the seconds per call.
inline double verify_run_once(bitnet_context *context, bitnet_batch *batch, const std::vector<bitnet_token> &tokens,
                              int n_prompt, int n_tokens, int n_calls) {
    using Clock = std::chrono::steady_clock;
    const size_t n = tokens.size();
    const int32_t seq = 0;
    exit_on_failure("-spec-verify", bitnet_memory_clear(context), "clear");
    bitnet_batch_clear(batch);
    for (int i = 0; i < n_prompt; ++i) bitnet_batch_add(batch, tokens[static_cast<size_t>(i) % n], i, &seq, 1, i == n_prompt - 1);
    exit_on_failure("-spec-verify", bitnet_decode(context, batch), "prompt decode");
    const auto start = Clock::now();
    int pos = n_prompt;
    for (int c = 0; c < n_calls; ++c) {
        bitnet_batch_clear(batch);
        for (int k = 0; k < n_tokens; ++k, ++pos) {
            bitnet_batch_add(batch, tokens[static_cast<size_t>(pos) % n], pos, &seq, 1, true);
        }
        exit_on_failure("-spec-verify", bitnet_decode(context, batch), "verify decode");
    }
    return std::chrono::duration<double>(Clock::now() - start).count() / n_calls;
}

// For each K1: one warm-up run, then `repetitions` runs of n_calls calls after a 128-token prompt.
inline std::vector<VerifyResult> measure_verify(const bitnet_model *model, bitnet_context_params params,
                                                const std::vector<int> &counts, int n_calls, int repetitions,
                                                const std::vector<bitnet_token> &tokens) {
    constexpr int kPrompt = 128;
    std::vector<VerifyResult> results;
    for (int n_tokens : counts) {
        params.n_seq_max = 1;
        params.n_ctx = static_cast<uint32_t>(kPrompt + n_tokens * n_calls);
        params.n_batch = static_cast<uint32_t>(std::max(kPrompt, n_tokens));
        params.n_outputs_max = static_cast<uint32_t>(n_tokens);
        bitnet_context *context = nullptr;
        exit_on_failure("-spec-verify", bitnet_context_new(model, &params, &context), "context");
        bitnet_batch *batch = nullptr;
        exit_on_failure("-spec-verify", bitnet_batch_new(static_cast<int32_t>(params.n_batch), &batch), "batch");
        verify_run_once(context, batch, tokens, kPrompt, n_tokens, n_calls);  // warm-up
        std::vector<double> ms;
        for (int r = 0; r < repetitions; ++r) ms.push_back(1000.0 * verify_run_once(context, batch, tokens, kPrompt, n_tokens, n_calls));
        results.push_back({n_tokens, median(ms), *std::min_element(ms.begin(), ms.end()),
                           *std::max_element(ms.begin(), ms.end())});
        bitnet_batch_free(batch);
        bitnet_context_free(context);
    }
    return results;
}

// The ratio column is against the one-token call where the list has one (else blank).
inline void print_verify_table(const std::vector<VerifyResult> &results, int threads) {
    if (results.empty()) return;
    double one = 0;
    for (const VerifyResult &r : results) {
        if (r.n_tokens == 1) one = r.ms_median;
    }
    std::printf("\n| %-14s | %7s | %12s | %15s | %14s | %11s |\n", "test", "threads", "ms per call", "(min-max)",
                "vs 1 token", "ms / token");
    std::printf("|----------------|--------:|-------------:|----------------:|---------------:|------------:|\n");
    for (const VerifyResult &r : results) {
        char test[48], range[64], ratio[32];
        std::snprintf(test, sizeof test, "verify K+1=%d", r.n_tokens);
        std::snprintf(range, sizeof range, "%.2f-%.2f", r.ms_min, r.ms_max);
        if (one > 0) std::snprintf(ratio, sizeof ratio, "%.3fx", r.ms_median / one);
        else std::snprintf(ratio, sizeof ratio, "-");
        std::printf("| %-14s | %7d | %12.2f | %15s | %14s | %11.2f |\n", test, threads, r.ms_median, range, ratio,
                    r.ms_median / r.n_tokens);
    }
}

inline void print_verify_json(const std::vector<VerifyResult> &results, int repetitions, int threads, bool more_follow) {
    for (size_t i = 0; i < results.size(); ++i) {
        const VerifyResult &r = results[i];
        std::printf("  {\"test\": \"verify%d\", \"n_tokens\": %d, \"ms_per_call_median\": %.3f, \"ms_min\": %.3f, "
                    "\"ms_max\": %.3f, \"repetitions\": %d, \"threads\": %d}%s\n",
                    r.n_tokens, r.n_tokens, r.ms_median, r.ms_min, r.ms_max, repetitions, threads,
                    i + 1 < results.size() || more_follow ? "," : "");
    }
}

}  // namespace bitnet_bench
