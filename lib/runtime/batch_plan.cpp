#include "runtime/batch_plan.h"

#include "util/error.h"

namespace bitnet {

void PlanScratch::layout(Arena &arena, const PlanLimits &limits) {
    token_seq_mask = arena.allocate<uint64_t>(limits.n_batch);
    cells = arena.allocate<int32_t>(limits.n_batch);
    output_entries = arena.allocate<int32_t>(limits.n_batch);
    next_position = arena.allocate<int32_t>(limits.n_seq_max);
}

namespace {

void check_entries(const bitnet_batch &batch, const PlanLimits &limits, PlanScratch &scratch, BatchPlan &plan) {
    const int32_t n = batch.size();
    if (n == 0) fail(BITNET_ERR_INVALID_INPUT, "decode: the batch is empty");
    if (n > limits.n_batch) {
        fail(BITNET_ERR_INVALID_INPUT, "decode: the batch has %d entries, more than n_batch = %d", n, limits.n_batch);
    }
    plan.n_outputs = 0;
    for (int32_t i = 0; i < n; ++i) {
        int32_t token = batch.tokens[i];
        if (token < 0 || token >= limits.n_vocab) {
            fail(BITNET_ERR_INVALID_INPUT, "decode: entry %d has token id %d, outside the vocabulary [0, %d)", i, token,
                 limits.n_vocab);
        }
        if (batch.positions[i] < 0) {
            fail(BITNET_ERR_INVALID_INPUT, "decode: entry %d has negative position %d", i, batch.positions[i]);
        }
        uint64_t mask = 0;
        for (int32_t k = batch.seq_id_offsets[i]; k < batch.seq_id_offsets[i + 1]; ++k) {
            int32_t seq = batch.seq_ids[k];
            if (seq < 0 || seq >= limits.n_seq_max) {
                fail(BITNET_ERR_INVALID_INPUT, "decode: entry %d has sequence id %d, outside [0, n_seq_max = %d)", i,
                     seq, limits.n_seq_max);
            }
            mask |= uint64_t(1) << seq;
        }
        if (mask == 0) fail(BITNET_ERR_INVALID_INPUT, "decode: entry %d belongs to no sequence", i);
        scratch.token_seq_mask[i] = mask;
        if (batch.want_logits[i]) {
            if (plan.n_outputs == limits.n_outputs_max) {
                fail(BITNET_ERR_INVALID_INPUT, "decode: more than n_outputs_max = %d entries ask for logits",
                     limits.n_outputs_max);
            }
            scratch.output_entries[plan.n_outputs++] = i;
        }
    }
}

// Each entry must continue every sequence it belongs to (llama.cpp's rule for consistent
// positions): the first position of a sequence is 0, then consecutive.
void check_positions(const bitnet_batch &batch, const PlanLimits &limits, const KvCache &kv, PlanScratch &scratch) {
    for (int32_t seq = 0; seq < limits.n_seq_max; ++seq) scratch.next_position[seq] = kv.next_position(kv.committed(), seq);
    for (int32_t i = 0; i < batch.size(); ++i) {
        const int32_t pos = batch.positions[i];
        for (int32_t seq = 0; seq < limits.n_seq_max; ++seq) {
            if (!(scratch.token_seq_mask[i] >> seq & 1)) continue;
            if (pos != scratch.next_position[seq]) {
                fail(BITNET_ERR_INVALID_INPUT, "decode: entry %d has position %d but sequence %d continues at %d", i,
                     pos, seq, scratch.next_position[seq]);
            }
            scratch.next_position[seq] = pos + 1;
        }
    }
}

}  // namespace

void plan_batch(const bitnet_batch &batch, const PlanLimits &limits, KvCache &kv, PlanScratch &scratch,
                BatchPlan &plan) {
    plan = BatchPlan{};
    check_entries(batch, limits, scratch, plan);
    check_positions(batch, limits, kv, scratch);

    const KvCells &committed = kv.committed();
    const int32_t n = batch.size();
    int32_t found = 0;
    for (uint32_t cell = 0; cell < kv.n_ctx() && found < n; ++cell) {
        if (committed.pos[cell] < 0) scratch.cells[found++] = static_cast<int32_t>(cell);
    }
    if (found < n) {
        fail(BITNET_ERR_CONTEXT_FULL, "decode: the KV cache has %d free cells of %u, the batch needs %d", found,
             kv.n_ctx(), n);
    }

    kv.copy_committed_to_working();
    KvCells &view = kv.working();
    for (int32_t i = 0; i < n; ++i) {
        view.pos[scratch.cells[i]] = batch.positions[i];
        view.seq_mask[scratch.cells[i]] = scratch.token_seq_mask[i];
    }
    int32_t used = 0;
    for (uint32_t cell = 0; cell < kv.n_ctx(); ++cell) {
        if (view.pos[cell] >= 0) used = static_cast<int32_t>(cell) + 1;
    }

    plan.n_tokens = n;
    plan.tokens = batch.tokens.data();
    plan.positions = batch.positions.data();
    plan.token_seq_mask = scratch.token_seq_mask;
    plan.cells = scratch.cells;
    plan.output_entries = scratch.output_entries;
    plan.view = view;
    plan.n_cells_used = used;
}

}  // namespace bitnet
