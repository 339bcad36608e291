// The AVX2 variant's functions that live outside avx2_kernels.cpp (which builds the table).
#pragma once

#include "kernels/kernels.h"

namespace bitnet::avx2 {

void gemm_float(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                const float *const *x, int64_t n_tokens, float *out, int64_t out_stride);
void attention_scores(const float *const *queries, int32_t n_queries, const uint8_t *keys, size_t cell_stride,
                      bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim, float scale, float *scores,
                      int64_t score_stride);
void attention_values(const float *weights, int64_t weight_stride, int32_t n_queries, const uint8_t *values,
                      size_t cell_stride, bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim,
                      float *const *out);
void rms_norm(const float *x, const float *weight, int64_t n, float eps, float *y);
void gated_activation(float *gate, const float *up, int64_t n, bool relu_squared);

}  // namespace bitnet::avx2
