// NEON kernels for AArch64, baseline ARMv8.0 Advanced SIMD only (runs on every AArch64 CPU), and
// for 32-bit ARM with NEON and VFPv4 (the AArch64-only operations through neon_portable.h).
// Integer work is exact and float steps follow the scalar specification operation for operation,
// so results equal kernels/scalar/ bit for bit.
//
// Ternary × int8 products use SMLAL (vmlal_s8) into int16 lanes: an I2_S product is at most
// 3 * 128 = 384 in magnitude, and each int16 lane takes at most 8 of them per block, so 10 blocks
// (30720) fit before SADALP widens them to int32; TQ2_0/TQ1_0 values (code - 1) are at most 2, 16
// products per lane per block (4096), widened once per block. The gemms are the driver of
// kernels/ternary_gemm_impl.h over the policy of neon_ternary_impl.h, shared with the dotprod
// variant (neon_dotprod_kernels.cpp), whose table is also built here.
#include <arm_neon.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/neon/neon_kernels.h"
#include "kernels/neon/neon_portable.h"
#include "kernels/neon/neon_ternary_impl.h"

namespace bitnet {
namespace {

struct MullMac {
    struct Acc {
        int16x8_t low, high;
    };
    static constexpr int64_t kI2SBlocksPerWiden = 10;
    static Acc zero() { return {vdupq_n_s16(0), vdupq_n_s16(0)}; }
    static Acc mac(Acc acc, int8x16_t codes, int8x16_t q) {
        return {vmlal_s8(acc.low, vget_low_s8(codes), vget_low_s8(q)), neon_portable::mlal_high(acc.high, codes, q)};
    }
    static int32x4_t widen(Acc acc, int32x4_t sum) { return vpadalq_s16(vpadalq_s16(sum, acc.low), acc.high); }
};

using Gemm = ternary_gemm::TernaryGemm<neon_ternary::NeonTernary<MullMac>>;

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

// codes = clamp(round_half_even(x * scale), -128, 127) for 4 values, as int32. FCVTNS rounds to
// nearest with ties to even (whatever the FPCR mode) and saturates, and the narrowing below
// saturates to int8: together the scalar clamp. NaN converts to 0, so it is set to -128 here.
int32x4_t quantize4(float32x4_t x, float32x4_t scale) {
    const float32x4_t product = vmulq_f32(x, scale);
    return vbslq_s32(vceqq_f32(product, product), neon_portable::round_to_int_for_int8(product), vdupq_n_s32(-128));
}

int8x16_t quantize16(const float *x, float32x4_t scale) {
    const int16x8_t low = vcombine_s16(vqmovn_s32(quantize4(vld1q_f32(x), scale)),
                                       vqmovn_s32(quantize4(vld1q_f32(x + 4), scale)));
    const int16x8_t high = vcombine_s16(vqmovn_s32(quantize4(vld1q_f32(x + 8), scale)),
                                        vqmovn_s32(quantize4(vld1q_f32(x + 12), scale)));
    return vcombine_s8(vqmovn_s16(low), vqmovn_s16(high));
}

// Lanes of `max_abs` replaced by larger |x|; a NaN compares false and is skipped, as in the scalar
// loop (FMAX would propagate it).
float32x4_t update_max_abs(float32x4_t max_abs, float32x4_t x) {
    const float32x4_t a = vabsq_f32(x);
    return vbslq_f32(vcgtq_f32(a, max_abs), a, max_abs);
}

void quantize_activations(const float *x, int64_t n, int64_t n_padded, int8_t *codes, float *scale, int32_t *sum) {
    float32x4_t max_abs[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 4; ++k) max_abs[k] = update_max_abs(max_abs[k], vld1q_f32(x + i + 4 * k));
    }
    for (; i + 4 <= n; i += 4) max_abs[0] = update_max_abs(max_abs[0], vld1q_f32(x + i));
    // No lane holds a NaN, so FMAX and FMAXV give the maximum.
    float m = neon_portable::max_across(vmaxq_f32(vmaxq_f32(max_abs[0], max_abs[1]), vmaxq_f32(max_abs[2], max_abs[3])));
    for (; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > m) m = a;
    }
    const float s = 127.0f / (m > 1e-5f ? m : 1e-5f);

    const float32x4_t vs = vdupq_n_f32(s);
    int32x4_t total = vdupq_n_s32(0);
    for (i = 0; i + 16 <= n; i += 16) {
        const int8x16_t q = quantize16(x + i, vs);
        vst1q_s8(codes + i, q);
        total = vpadalq_s16(total, vpaddlq_s8(q));
    }
    if (i < n) {
        // The last 1..15 values, padded with zeros (which quantize to 0 and add nothing).
        float tail[16] = {};
        std::memcpy(tail, x + i, static_cast<size_t>(n - i) * sizeof(float));
        const int8x16_t q = quantize16(tail, vs);
        int8_t bytes[16];
        vst1q_s8(bytes, q);
        std::memcpy(codes + i, bytes, static_cast<size_t>(n - i));
        total = vpadalq_s16(total, vpaddlq_s8(q));
    }
    if (n_padded > n) std::memset(codes + n, 0, static_cast<size_t>(n_padded - n));
    *scale = s;
    *sum = neon_portable::add_across(total);
}

const KernelTable kNeonTable = {
    "neon",
    quantize_activations,
    {Gemm::gemm_i2s, Gemm::gemm_tq<TernaryLayout::TQ2>, Gemm::gemm_tq<TernaryLayout::TQ1>},
    nullptr,  // dot_f32: the scalar one (its fixed double-precision rule; 32-bit NEON has no f64 lanes)
    neon::gemm_float,
    neon::attention_scores,
    neon::attention_values,
    neon::rms_norm,
    neon::gated_activation,
    neon::softmax,
    neon::gemm_head_a8,
};

#if defined(__aarch64__)
// The dotprod variant: its own ternary gemms, everything else shared with the baseline table.
const KernelTable kNeonDotprodTable = {
    "neon_dotprod",
    quantize_activations,
    {neon_dotprod::gemm_i2s_q8, neon_dotprod::gemm_tq2_q8, neon_dotprod::gemm_tq1_q8},
    nullptr,  // dot_f32: the scalar one (its fixed double-precision rule; 32-bit NEON has no f64 lanes)
    neon::gemm_float,
    neon::attention_scores,
    neon::attention_values,
    neon::rms_norm,
    neon::gated_activation,
    neon::softmax,
    neon::gemm_head_a8,
};
#endif

}  // namespace

const KernelTable &neon_kernels() { return kNeonTable; }
#if defined(__aarch64__)
const KernelTable &neon_dotprod_kernels() { return kNeonDotprodTable; }
#endif

}  // namespace bitnet
