// A validated decode: every batch entry checked and given a KV cell, with the working cell view
// the attention reads. Built before any computation, so invalid input changes nothing.
#pragma once

#include <cstdint>

#include "runtime/arena.h"
#include "runtime/batch.h"
#include "runtime/kv_cache.h"

namespace bitnet {

struct BatchPlan {
    int32_t n_tokens = 0;
    const int32_t *tokens = nullptr;
    const int32_t *positions = nullptr;
    uint64_t *token_seq_mask = nullptr;  // per entry
    int32_t *cells = nullptr;            // KV cell of each entry
    int32_t *output_entries = nullptr;   // entries that want logits, in batch order
    int32_t n_outputs = 0;
    KvCells view;                        // committed cells plus this batch's
    int32_t n_cells_used = 0;            // 1 + highest occupied cell of `view`
};

struct PlanLimits {
    int32_t n_vocab;
    int32_t n_batch;
    int32_t n_seq_max;
    int32_t n_outputs_max;
};

// Scratch the planner needs, allocated with the context.
struct PlanScratch {
    uint64_t *token_seq_mask;
    int32_t *cells;
    int32_t *output_entries;
    int32_t *next_position;  // per sequence
    void layout(Arena &arena, const PlanLimits &limits);
};

// Validate `batch` and fill `plan` (throws Error: INVALID_INPUT or CONTEXT_FULL). Writes only the
// KV cache's working view, never the committed one.
void plan_batch(const bitnet_batch &batch, const PlanLimits &limits, KvCache &kv, PlanScratch &scratch,
                BatchPlan &plan);

}  // namespace bitnet
