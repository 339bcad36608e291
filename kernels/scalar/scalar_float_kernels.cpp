// Scalar float kernels: float-weight rows (the lm_head, llama float projections) and attention
// over the KV cache. They are the specification for the SIMD variants: weights are decoded by the
// reference dequantizer (tensor/quantize.h) and every sum runs in index order. The attention and
// softmax sums run in double (each product of two floats is exact there, one rounding at the end):
// the float-activation mode runs these kernels on every ISA (float_activation_kernels), and its
// logits were less accurate against the double-precision reference with float sums than with the
// SIMD kernels' several accumulators.
#include "kernels/scalar/scalar_kernels.h"

#include <cmath>

#include "tensor/quantize.h"
#include "util/half.h"

namespace bitnet::scalar {
namespace {

// Weights are decoded this many elements at a time: a multiple of every block size (1, 32, 256).
constexpr int64_t kDecodeChunk = 256;

float kv_element(const uint8_t *row, int32_t i, bool f16) {
    return f16 ? half_to_float(reinterpret_cast<const uint16_t *>(row)[i]) : reinterpret_cast<const float *>(row)[i];
}

}  // namespace

void gemm_float(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                const float *const *x, int64_t n_tokens, float *out, int64_t out_stride) {
    float decoded[kDecodeChunk];
    for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < n_rows; ++r) {
            const uint8_t *row = weights + r * row_bytes;
            float acc = 0.0f;
            for (int64_t first = 0; first < n_cols; first += kDecodeChunk) {
                const int64_t count = n_cols - first < kDecodeChunk ? n_cols - first : kDecodeChunk;
                dequantize_row(type, row + tensor_row_bytes(type, static_cast<uint64_t>(first)),
                               static_cast<uint64_t>(count), 1.0f, decoded);
                for (int64_t i = 0; i < count; ++i) acc += decoded[i] * x[t][first + i];
            }
            out[t * out_stride + r] = acc;
        }
    }
}

void attention_scores(const float *const *queries, int32_t n_queries, const uint8_t *keys, size_t cell_stride,
                      bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim, float scale, float *scores,
                      int64_t score_stride) {
    for (int32_t q = 0; q < n_queries; ++q) {
        for (int32_t j = 0; j < n_cells; ++j) {
            const uint8_t *key = keys + static_cast<size_t>(cells[j]) * cell_stride;
            double dot = 0.0;
            for (int32_t i = 0; i < head_dim; ++i) {
                dot += static_cast<double>(queries[q][i]) * static_cast<double>(kv_element(key, i, f16));
            }
            scores[q * score_stride + j] = static_cast<float>(dot) * scale;
        }
    }
}

void attention_values(const float *weights, int64_t weight_stride, int32_t n_queries, const uint8_t *values,
                      size_t cell_stride, bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim,
                      float *const *out) {
    // Each output's sum over the cells in one double, kValueChunk outputs at a time (the value
    // rows still read in order, cell after cell).
    constexpr int32_t kValueChunk = 64;
    double sums[kValueChunk];
    for (int32_t q = 0; q < n_queries; ++q) {
        for (int32_t first = 0; first < head_dim; first += kValueChunk) {
            const int32_t count = head_dim - first < kValueChunk ? head_dim - first : kValueChunk;
            for (int32_t i = 0; i < count; ++i) sums[i] = out[q][first + i];
            for (int32_t j = 0; j < n_cells; ++j) {
                const uint8_t *value = values + static_cast<size_t>(cells[j]) * cell_stride;
                const double weight = weights[q * weight_stride + j];
                for (int32_t i = 0; i < count; ++i) sums[i] += weight * static_cast<double>(kv_element(value, first + i, f16));
            }
            for (int32_t i = 0; i < count; ++i) out[q][first + i] = static_cast<float>(sums[i]);
        }
    }
}

// The mean of squares in double: the reference the float SIMD sums are checked against.
void rms_norm(const float *x, const float *weight, int64_t n, float eps, float *y) {
    double sum_squares = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_squares += static_cast<double>(x[i]) * x[i];
    const float inv_rms = static_cast<float>(1.0 / std::sqrt(sum_squares / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv_rms * weight[i];
}

void gated_activation(float *gate, const float *up, int64_t n, bool relu_squared) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        const float activated = relu_squared ? (g > 0.0f ? g * g : 0.0f) : g / (1.0f + std::exp(-g));
        gate[i] = activated * up[i];
    }
}

float softmax(float *x, int64_t n) {
    float max_value = x[0];
    for (int64_t i = 1; i < n; ++i) max_value = x[i] > max_value ? x[i] : max_value;
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max_value);
        total += x[i];
    }
    return static_cast<float>(total);
}

}  // namespace bitnet::scalar
