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
//
// The common case needs no packing: in a prompt the cells are in position order and entry t sees a
// prefix of them (`visible_prefix`, from visible_prefix_length, or -1 when it is not a prefix).
// There the visible scores are already packed, so the softmax runs in place - the same result.
float CpuBackend::softmax_visible(const BatchPlan &plan, int32_t t, const int32_t *cells, int32_t n_cells,
                                  int32_t visible_prefix, float *scores) const {
    if (visible_prefix >= 0) {
        const float total = kernels_.softmax(scores, visible_prefix);
        for (int32_t j = visible_prefix; j < n_cells; ++j) scores[j] = 0.0f;
        return total;
    }
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

// k when entry t sees exactly cells[0..k) of the list, else -1.
int32_t CpuBackend::visible_prefix_length(const BatchPlan &plan, int32_t t, const int32_t *cells, int32_t n_cells) {
    int32_t k = 0;
    while (k < n_cells && cell_visible(plan, t, cells[k])) ++k;
    for (int32_t j = k; j < n_cells; ++j) {
        if (cell_visible(plan, t, cells[j])) return -1;
    }
    return k;
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
    const int64_t items_per_block = static_cast<int64_t>(hp.n_head_kv) * splits;
    const int64_t n_items = n_blocks * items_per_block;

    // An item's cost is about its queries times the cells they see, which grows with the block's
    // last position: in a causal prompt the last blocks cost many times the first, so the items are
    // shared by cost, not by count (an even split left one of two threads a quarter of the work).
    int64_t *cost_before = attention_item_costs_;
    cost_before[0] = 0;
    for (int32_t block = 0; block < n_blocks; ++block) {
        int32_t last_pos = 0;
        for (int32_t t = attention_block_starts_[block]; t < attention_block_starts_[block + 1]; ++t) {
            last_pos = std::max(last_pos, plan.positions[t]);
        }
        const int64_t cost = static_cast<int64_t>(attention_block_starts_[block + 1] - attention_block_starts_[block]) *
                             (static_cast<int64_t>(last_pos) + 1 + kAttentionItemOverheadCells);
        for (int64_t k = 0; k < items_per_block; ++k) {
            const int64_t item = block * items_per_block + k;
            cost_before[item + 1] = cost_before[item] + cost;
        }
    }

    parallel_for_balanced(config_.n_threads, n_items, cost_before, [&](int64_t begin, int64_t end, int thread) {
        float *scores = score_scratch_ + static_cast<int64_t>(thread) * kAttentionBlockQueries * score_stride;
        int32_t *cells = visible_scratch_ + static_cast<int64_t>(thread) * kv_.n_ctx();
        const float *queries[kAttentionBlockQueries];
        float *outputs[kAttentionBlockQueries];
        for (int64_t item = begin; item < end; ++item) {
            const int32_t block = static_cast<int32_t>(item / items_per_block);
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
            int32_t visible_prefix[kAttentionBlockQueries];  // per entry of the block, shared by its heads
            for (int32_t t = t0; t < t1; ++t) visible_prefix[t - t0] = visible_prefix_length(plan, t, cells, n_cells);
            for (int32_t q = 0; q < n_queries; ++q) {
                const int32_t t = t0 + q / heads_per_item;
                inv_totals[q] =
                    1.0f / softmax_visible(plan, t, cells, n_cells, visible_prefix[t - t0], scores + q * score_stride);
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
