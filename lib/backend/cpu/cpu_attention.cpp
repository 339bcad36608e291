// Causal grouped-query attention over the KV cache: softmax in f32, each batch entry seeing the
// cells of its own sequences at positions up to its own.
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_backend.h"
#include "util/half.h"
#include "util/parallel.h"

namespace bitnet {
namespace {

inline float kv_element(const uint8_t *row, int64_t i, bool is_f16) {
    return is_f16 ? half_to_float(reinterpret_cast<const uint16_t *>(row)[i]) : reinterpret_cast<const float *>(row)[i];
}

}  // namespace

void CpuBackend::attention(int32_t layer) {
    store_kv(layer);
    const HyperParams &hp = model_.hparams;
    const BatchPlan &plan = *plan_;
    const int32_t head_dim = hp.head_dim;
    const int32_t group = hp.n_head / hp.n_head_kv;
    const bool is_f16 = kv_.type() == BITNET_KV_F16;
    const float inv_sqrt_dim = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
    const int64_t n_pairs = static_cast<int64_t>(plan.n_tokens) * hp.n_head;

    parallel_for(config_.n_threads, n_pairs, 1, [&](int64_t begin, int64_t end, int thread) {
        float *scores = score_scratch_ + static_cast<int64_t>(thread) * kv_.n_ctx();
        for (int64_t pair = begin; pair < end; ++pair) {
            const int32_t t = static_cast<int32_t>(pair / hp.n_head);
            const int32_t head = static_cast<int32_t>(pair % hp.n_head);
            const int32_t kv_head = head / group;
            const float *q = row(Act::Q, t) + static_cast<int64_t>(head) * head_dim;
            const uint64_t seqs = plan.token_seq_mask[t];
            const int32_t pos = plan.positions[t];
            const int64_t offset = static_cast<int64_t>(kv_head) * head_dim;

            float max_score = -std::numeric_limits<float>::infinity();
            for (int32_t cell = 0; cell < plan.n_cells_used; ++cell) {
                const bool visible = plan.view.pos[cell] >= 0 && plan.view.pos[cell] <= pos &&
                                     (plan.view.seq_mask[cell] & seqs) != 0;
                if (!visible) {
                    scores[cell] = -std::numeric_limits<float>::infinity();
                    continue;
                }
                const uint8_t *key = kv_.key_row(layer, cell);
                float dot = 0.0f;
                for (int32_t i = 0; i < head_dim; ++i) dot += q[i] * kv_element(key, offset + i, is_f16);
                scores[cell] = dot * inv_sqrt_dim;
                max_score = std::max(max_score, scores[cell]);
            }

            float *out = row(Act::Attention, t) + static_cast<int64_t>(head) * head_dim;
            for (int32_t i = 0; i < head_dim; ++i) out[i] = 0.0f;
            float total = 0.0f;
            for (int32_t cell = 0; cell < plan.n_cells_used; ++cell) {
                if (scores[cell] == -std::numeric_limits<float>::infinity()) continue;
                const float weight = std::exp(scores[cell] - max_score);
                total += weight;
                const uint8_t *value = kv_.value_row(layer, cell);
                for (int32_t i = 0; i < head_dim; ++i) out[i] += weight * kv_element(value, offset + i, is_f16);
            }
            // Every entry sees at least its own cell, so total >= 1.
            const float inv_total = 1.0f / total;
            for (int32_t i = 0; i < head_dim; ++i) out[i] *= inv_total;
        }
    });
    written(Act::Attention);
}

}  // namespace bitnet
