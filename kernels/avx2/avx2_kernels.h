// The AVX2 variant's functions that live outside avx2_kernels.cpp (which builds the table).
#pragma once

#include "kernels/kernels.h"

namespace bitnet::avx2 {

#include "kernels/float_kernels.inc"

void gemm_head_a8(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                  const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride);

}  // namespace bitnet::avx2
