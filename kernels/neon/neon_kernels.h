// The NEON variants (AArch64): "neon" uses only baseline ARMv8.0 Advanced SIMD and runs on every
// AArch64 CPU; "neon_dotprod" replaces the three ternary gemms with SDOT versions (ARMv8.2
// dotprod, chosen only when HWCAP_ASIMDDP says the CPU has it) and shares everything else.
// 32-bit ARM builds compile "neon" alone (ARMv7-A NEON with VFPv4, chosen when HWCAP_NEON and
// HWCAP_VFPv4 say the CPU has them); neon_dotprod_kernels.cpp is AArch64 only.
#pragma once

#include "kernels/kernels.h"

namespace bitnet {

// The tables, for dispatch.cpp (only on ARM builds, BITNET_HAVE_NEON_KERNELS).
const KernelTable &neon_kernels();
#if defined(__aarch64__)
const KernelTable &neon_dotprod_kernels();
#endif

namespace neon {

// kernels/neon/neon_float_kernels.cpp: float_kernels_impl.h over 4-lane float32x4 vectors.
#include "kernels/float_kernels.inc"

// kernels/neon/neon_head_kernels.cpp: the quantized lm_head with int8 activations.
void gemm_head_a8(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                  const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride);

}  // namespace neon

namespace neon_dotprod {

// kernels/neon/neon_dotprod_kernels.cpp (compiled for armv8.2-a+dotprod): only call these when
// the CPU has the dotprod extension.
void gemm_i2s_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride);
void gemm_tq2_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride);
void gemm_tq1_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride);

}  // namespace neon_dotprod

}  // namespace bitnet
