// bitnet-bench -np: N sequences decoded together, the shape of llama.cpp's llama-batched-bench
// (one prompt per sequence, then every decode call carries one new token of each sequence). Kept
// apart from bitnet_bench.cpp's pp/tg tests: it needs its own context (n_seq_max = N, room for
// N * (prompt + generation) cells and N outputs per call).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bitnet.h"
#include "bench_common.h"

namespace bitnet_bench {

struct ParallelRun {
    double prompt_seconds = 0;  // the N prompts, one decode call each
    double decode_seconds = 0;  // the n_gen calls of N tokens each
};

struct ParallelResult {
    int n_seq = 0, n_prompt = 0, n_gen = 0;
    double aggregate_median = 0, aggregate_min = 0, aggregate_max = 0;  // decode tokens/s, all sequences
    double prompt_median = 0;                                           // prompt tokens/s
};

// One run from an empty cache. Sequence s's tokens are tokens[(s * 7919 + i) % size] so that
// sequences differ (a shared prompt would not change the arithmetic, but keeps it honest).
inline ParallelRun parallel_run_once(bitnet_context *context, bitnet_batch *batch, const std::vector<bitnet_token> &tokens,
                                     int n_seq, int n_prompt, int n_gen) {
    using Clock = std::chrono::steady_clock;
    const size_t n_tokens = tokens.size();
    auto token = [&](int seq, int i) { return tokens[(static_cast<size_t>(seq) * 7919 + static_cast<size_t>(i)) % n_tokens]; };
    exit_on_failure("-np", bitnet_memory_clear(context), "clear");
    ParallelRun run;
    auto start = Clock::now();
    for (int32_t seq = 0; seq < n_seq; ++seq) {
        bitnet_batch_clear(batch);
        for (int i = 0; i < n_prompt; ++i) bitnet_batch_add(batch, token(seq, i), i, &seq, 1, i == n_prompt - 1);
        exit_on_failure("-np", bitnet_decode(context, batch), "prompt decode");
    }
    auto middle = Clock::now();
    for (int i = 0; i < n_gen; ++i) {
        bitnet_batch_clear(batch);
        for (int32_t seq = 0; seq < n_seq; ++seq) bitnet_batch_add(batch, token(seq, n_prompt + i), n_prompt + i, &seq, 1, true);
        exit_on_failure("-np", bitnet_decode(context, batch), "generation decode");
    }
    auto end = Clock::now();
    run.prompt_seconds = std::chrono::duration<double>(middle - start).count();
    run.decode_seconds = std::chrono::duration<double>(end - middle).count();
    return run;
}

// -np N for each N: one warm-up run, then `repetitions` runs; medians and range.
inline std::vector<ParallelResult> measure_parallel(const bitnet_model *model, bitnet_context_params params,
                                                    const std::vector<int> &counts, int n_prompt, int n_gen,
                                                    int repetitions, const std::vector<bitnet_token> &tokens) {
    std::vector<ParallelResult> results;
    for (int n_seq : counts) {
        params.n_seq_max = static_cast<uint32_t>(n_seq);
        params.n_ctx = static_cast<uint32_t>(n_seq * (n_prompt + n_gen));
        params.n_batch = static_cast<uint32_t>(std::max(n_prompt, n_seq));
        params.n_outputs_max = static_cast<uint32_t>(n_seq);
        bitnet_context *context = nullptr;
        exit_on_failure("-np", bitnet_context_new(model, &params, &context), "context");
        bitnet_batch *batch = nullptr;
        exit_on_failure("-np", bitnet_batch_new(static_cast<int32_t>(params.n_batch), &batch), "batch");
        parallel_run_once(context, batch, tokens, n_seq, n_prompt, n_gen);  // warm-up
        std::vector<double> aggregate, prompt;
        for (int r = 0; r < repetitions; ++r) {
            const ParallelRun run = parallel_run_once(context, batch, tokens, n_seq, n_prompt, n_gen);
            aggregate.push_back(static_cast<double>(n_seq) * n_gen / run.decode_seconds);
            prompt.push_back(static_cast<double>(n_seq) * n_prompt / run.prompt_seconds);
        }
        results.push_back({n_seq, n_prompt, n_gen, median(aggregate), *std::min_element(aggregate.begin(), aggregate.end()),
                           *std::max_element(aggregate.begin(), aggregate.end()), median(prompt)});
        bitnet_batch_free(batch);
        bitnet_context_free(context);
    }
    return results;
}

inline void print_parallel_table(const std::vector<ParallelResult> &results, int threads) {
    if (results.empty()) return;
    std::printf("\n| %-14s | %7s | %4s | %18s | %16s | %13s | %12s |\n", "test", "threads", "N", "decode t/s (all N)",
                "(min-max)", "t/s per seq", "prompt t/s");
    std::printf("|----------------|--------:|-----:|-------------------:|-----------------:|--------------:|-------------:|\n");
    for (const ParallelResult &r : results) {
        char test[48], range[64];
        std::snprintf(test, sizeof test, "np%d pp%d+tg%d", r.n_seq, r.n_prompt, r.n_gen);
        std::snprintf(range, sizeof range, "%.2f-%.2f", r.aggregate_min, r.aggregate_max);
        std::printf("| %-14s | %7d | %4d | %18.2f | %16s | %13.2f | %12.2f |\n", test, threads, r.n_seq,
                    r.aggregate_median, range, r.aggregate_median / r.n_seq, r.prompt_median);
    }
}

inline void print_parallel_json(const std::vector<ParallelResult> &results, int repetitions, int threads, bool more_follow) {
    for (size_t i = 0; i < results.size(); ++i) {
        const ParallelResult &r = results[i];
        std::printf("  {\"test\": \"np%d\", \"n_seq\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"tok_s_median\": %.3f, "
                    "\"tok_s_min\": %.3f, \"tok_s_max\": %.3f, \"tok_s_per_seq\": %.3f, \"prompt_tok_s\": %.3f, "
                    "\"repetitions\": %d, \"threads\": %d}%s\n",
                    r.n_seq, r.n_seq, r.n_prompt, r.n_gen, r.aggregate_median, r.aggregate_min, r.aggregate_max,
                    r.aggregate_median / r.n_seq, r.prompt_median, repetitions, threads,
                    i + 1 < results.size() || more_follow ? "," : "");
    }
}

}  // namespace bitnet_bench
