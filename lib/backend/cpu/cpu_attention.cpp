// Causal grouped-query attention over the KV cache: softmax in f32, each batch entry seeing the
// cells of its own sequences at positions up to its own. The dot products and the weighted sum of
// values run in the kernels (kernels.h attention_scores / attention_values).
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "util/parallel.h"

namespace bitnet {

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
    const int64_t n_pairs = static_cast<int64_t>(plan.n_tokens) * hp.n_head;

    parallel_for(config_.n_threads, n_pairs, 1, [&](int64_t begin, int64_t end, int thread) {
        float *scores = score_scratch_ + static_cast<int64_t>(thread) * kv_.n_ctx();
        int32_t *visible = visible_scratch_ + static_cast<int64_t>(thread) * kv_.n_ctx();
        int32_t n_visible = 0;
        int32_t visible_for = -1;  // the batch entry `visible` was built for
        for (int64_t pair = begin; pair < end; ++pair) {
            const int32_t t = static_cast<int32_t>(pair / hp.n_head);
            const int32_t head = static_cast<int32_t>(pair % hp.n_head);
            if (t != visible_for) {
                const uint64_t seqs = plan.token_seq_mask[t];
                const int32_t pos = plan.positions[t];
                n_visible = 0;
                for (int32_t cell = 0; cell < plan.n_cells_used; ++cell) {
                    if (plan.view.pos[cell] >= 0 && plan.view.pos[cell] <= pos && (plan.view.seq_mask[cell] & seqs) != 0) {
                        visible[n_visible++] = cell;
                    }
                }
                visible_for = t;
            }
            const size_t head_offset = static_cast<size_t>(head / group) * head_dim * element_bytes;
            kernels_.attention_scores(row(Act::Q, t) + static_cast<int64_t>(head) * head_dim, keys + head_offset,
                                      cell_stride, f16, visible, n_visible, head_dim, inv_sqrt_dim, scores);

            // Every entry sees at least its own cell, so n_visible >= 1 and total >= 1.
            float max_score = scores[0];
            for (int32_t j = 1; j < n_visible; ++j) max_score = scores[j] > max_score ? scores[j] : max_score;
            float total = 0.0f;
            for (int32_t j = 0; j < n_visible; ++j) {
                scores[j] = std::exp(scores[j] - max_score);
                total += scores[j];
            }
            float *out = row(Act::Attention, t) + static_cast<int64_t>(head) * head_dim;
            for (int32_t i = 0; i < head_dim; ++i) out[i] = 0.0f;
            kernels_.attention_values(scores, values + head_offset, cell_stride, f16, visible, n_visible, head_dim, out);
            const float inv_total = 1.0f / total;
            for (int32_t i = 0; i < head_dim; ++i) out[i] *= inv_total;
        }
    });
    written(Act::Attention);
}

}  // namespace bitnet
