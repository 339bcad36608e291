// The ternary gemms of the "neon_dotprod" variant: SDOT (vdotq_s32, ARMv8.2 dotprod) sums four
// code * activation products into each int32 lane, so no int16 staging is needed. Everything in
// this file after the pragma is compiled for armv8.2-a+dotprod; dispatch.cpp only selects the
// variant when the kernel reports HWCAP_ASIMDDP. The gemms are kernels/ternary_gemm_impl.h's driver
// over neon_ternary_impl.h's policy, with a multiply-accumulate local to this file (so none of this
// code is shared with the baseline variant).
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/neon/neon_kernels.h"

// After every other header (their inline functions stay baseline code) and before the kernels
// (whose template definitions take the target from here).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif

#include "kernels/neon/neon_ternary_impl.h"

namespace bitnet {
namespace {

struct DotMac {
    using Acc = int32x4_t;
    // int32 lanes: |Σ| <= 2^21 columns * 3 * 128 fits, so a row never needs widening.
    static constexpr int64_t kI2SBlocksPerWiden = int64_t{1} << 40;
    static Acc zero() { return vdupq_n_s32(0); }
    static Acc mac(Acc acc, int8x16_t codes, int8x16_t q) {
#if defined(__clang__) && !defined(__ARM_FEATURE_DOTPROD)
        // Clang's arm_neon.h (before LLVM 16) declares vdotq_s32 only for -march=...+dotprod
        // builds; its builtin is what the intrinsic calls (34: the int32x4 variant).
        return static_cast<int32x4_t>(__builtin_neon_vdotq_v(static_cast<int8x16_t>(acc), codes, q, 34));
#else
        return vdotq_s32(acc, codes, q);
#endif
    }
    static int32x4_t widen(Acc acc, int32x4_t sum) { return vaddq_s32(sum, acc); }
};

using Gemm = ternary_gemm::TernaryGemm<neon_ternary::NeonTernary<DotMac>>;

}  // namespace

namespace neon_dotprod {

void gemm_i2s_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride) {
    Gemm::gemm_i2s(weights, row_bytes, n_rows, n_cols, activations, n_tokens, weight_scale, out, out_stride);
}

void gemm_tq2_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride) {
    Gemm::gemm_tq<TernaryLayout::TQ2>(weights, row_bytes, n_rows, n_cols, activations, n_tokens, weight_scale, out,
                                      out_stride);
}

void gemm_tq1_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride) {
    Gemm::gemm_tq<TernaryLayout::TQ1>(weights, row_bytes, n_rows, n_cols, activations, n_tokens, weight_scale, out,
                                      out_stride);
}

}  // namespace neon_dotprod
}  // namespace bitnet

#if defined(__clang__)
#pragma clang attribute pop
#endif
