// Causal grouped-query attention over the KV cache: softmax in f32, each batch entry seeing the
// cells of its own sequences at positions up to its own.
//
// Work is split into items of (a block of consecutive batch entries, a KV head, some of the query
// heads that share it). An item's queries read the union of the cells its entries may see, so
// each key and value row is converted once per item (kernels.h attention_scores/values); cells a
// particular entry may not see get weight 0.
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "util/parallel.h"

namespace bitnet {
namespace {

bool cell_visible(const BatchPlan &plan, int32_t t, int32_t cell) {
    return plan.view.pos[cell] >= 0 && plan.view.pos[cell] <= plan.positions[t] &&
           (plan.view.seq_mask[cell] & plan.token_seq_mask[t]) != 0;
}

}  // namespace

// Batch invariance (issue 17 item 6): the softmax's sum (vector lanes, then a tail) and which
// scores take the vector exp or the scalar one depend on where each score sits in the array. The
// item's cell list is the union of the cells its batch entries may see, which depends on who else
// is in the batch; so the scores entry t sees are first packed to the front, in cell order (the
// same order whatever else is in the list), the softmax runs on exactly them, and the weights are
// spread back with 0 for the others. attention_values then adds the products in cell order, where
// the zero weights add exact zeros.
float CpuBackend::softmax_visible(const BatchPlan &plan, int32_t t, const int32_t *cells, int32_t n_cells,
                                  float *scores) const {
    int32_t n_visible = 0;
    for (int32_t j = 0; j < n_cells; ++j) {
        if (cell_visible(plan, t, cells[j])) scores[n_visible++] = scores[j];
    }
    const float total = kernels_.softmax(scores, n_visible);
    // Back to the cells' places, from the end: a visible score moves only rightwards (k <= j).
    int32_t k = n_visible;
    for (int32_t j = n_cells - 1; j >= 0; --j) {
        scores[j] = cell_visible(plan, t, cells[j]) ? scores[--k] : 0.0f;
    }
    return total;
}

void CpuBackend::attention(int32_t layer) {
    store_kv(layer);
    const HyperParams &hp = model_.hparams;
    const BatchPlan &plan = *plan_;
    const int32_t head_dim = hp.head_dim;
    const int32_t group = hp.n_head / hp.n_head_kv;
    const bool f16 = kv_.type() == BITNET_KV_F16;
    const size_t element_bytes = kv_.element_bytes();
    const size_t cell_stride = static_cast<size_t>(kv_.n_embd_kv()) * element_bytes;
    const uint8_t *keys = kv_.key_row(layer, 0);
    const uint8_t *values = kv_.value_row(layer, 0);
    const float inv_sqrt_dim = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
    const int64_t score_stride = kv_.n_ctx();

    // Query heads per item: a divisor of the group, so the items cover every head - the whole group
    // when it fits a block, and halved while that leaves threads idle (decode).
    const int32_t tokens_per_block = std::max(1, kAttentionBlockQueries / group);
    // Blocks are runs of consecutive entries of the same sequences: an item reads the union of the
    // cells its entries may see, so a block mixing sequences would compute scores for every other
    // sequence's cells too (8 sequences decoded together: 8x the attention work).
    int32_t n_blocks = 0;
    for (int32_t t = 0; t < plan.n_tokens; ++t) {
        if (t == 0 || t - attention_block_starts_[n_blocks - 1] == tokens_per_block ||
            plan.token_seq_mask[t] != plan.token_seq_mask[t - 1]) {
            attention_block_starts_[n_blocks++] = t;
        }
    }
    attention_block_starts_[n_blocks] = plan.n_tokens;
    int32_t heads_per_item = std::min(group, kAttentionBlockQueries);
    while (group % heads_per_item != 0) --heads_per_item;
    while (heads_per_item % 2 == 0 &&
           static_cast<int64_t>(n_blocks) * hp.n_head_kv * (group / heads_per_item) < 2 * config_.n_threads) {
        heads_per_item /= 2;
    }
    const int32_t splits = group / heads_per_item;
    const int64_t n_items = static_cast<int64_t>(n_blocks) * hp.n_head_kv * splits;

    parallel_for(config_.n_threads, n_items, 1, [&](int64_t begin, int64_t end, int thread) {
        float *scores = score_scratch_ + static_cast<int64_t>(thread) * kAttentionBlockQueries * score_stride;
        int32_t *cells = visible_scratch_ + static_cast<int64_t>(thread) * kv_.n_ctx();
        const float *queries[kAttentionBlockQueries];
        float *outputs[kAttentionBlockQueries];
        for (int64_t item = begin; item < end; ++item) {
            const int32_t block = static_cast<int32_t>(item / (static_cast<int64_t>(hp.n_head_kv) * splits));
            const int32_t kv_head = static_cast<int32_t>(item / splits % hp.n_head_kv);
            const int32_t first_head = kv_head * group + static_cast<int32_t>(item % splits) * heads_per_item;
            const int32_t t0 = attention_block_starts_[block];
            const int32_t t1 = attention_block_starts_[block + 1];

            // The cells any entry of the block may see.
            uint64_t seqs = 0;
            int32_t last_pos = -1;
            for (int32_t t = t0; t < t1; ++t) {
                seqs |= plan.token_seq_mask[t];
                last_pos = std::max(last_pos, plan.positions[t]);
            }
            int32_t n_cells = 0;
            for (int32_t cell = 0; cell < plan.n_cells_used; ++cell) {
                if (plan.view.pos[cell] >= 0 && plan.view.pos[cell] <= last_pos && (plan.view.seq_mask[cell] & seqs)) {
                    cells[n_cells++] = cell;
                }
            }

            int32_t n_queries = 0;
            for (int32_t t = t0; t < t1; ++t) {
                for (int32_t h = first_head; h < first_head + heads_per_item; ++h) {
                    queries[n_queries] = row(Act::Q, t) + static_cast<int64_t>(h) * head_dim;
                    outputs[n_queries] = row(Act::Attention, t) + static_cast<int64_t>(h) * head_dim;
                    ++n_queries;
                }
            }
            const size_t head_offset = static_cast<size_t>(kv_head) * head_dim * element_bytes;
            kernels_.attention_scores(queries, n_queries, keys + head_offset, cell_stride, f16, cells, n_cells, head_dim,
                                      inv_sqrt_dim, scores, score_stride);

            // Softmax per query over the cells its own entry sees (at least its own cell, so the
            // total is >= 1); the others get weight 0.
            float inv_totals[kAttentionBlockQueries];
            for (int32_t q = 0; q < n_queries; ++q) {
                const int32_t t = t0 + q / heads_per_item;
                inv_totals[q] = 1.0f / softmax_visible(plan, t, cells, n_cells, scores + q * score_stride);
                for (int32_t i = 0; i < head_dim; ++i) outputs[q][i] = 0.0f;
            }
            kernels_.attention_values(scores, score_stride, n_queries, values + head_offset, cell_stride, f16, cells,
                                      n_cells, head_dim, outputs);
            for (int32_t q = 0; q < n_queries; ++q) {
                for (int32_t i = 0; i < head_dim; ++i) outputs[q][i] *= inv_totals[q];
            }
        }
    });
    written(Act::Attention);
}

}  // namespace bitnet
