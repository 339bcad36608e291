// The Advanced SIMD operations the NEON kernels use that exist only on AArch64 (across-vector and
// 128-bit pairwise adds, FDIV, FCVTNS, FMAXNM, FSQRT, SMLAL2), each with a 32-bit ARM equivalent
// (ARMv7-A NEON, compiled with -mfpu=neon-vfpv4) that gives the same bits for the values the
// kernels pass. On AArch64 each is the one intrinsic, so that code is unchanged.
//
// 32-bit NEON arithmetic always runs in the ARMv7 "standard FPSCR" mode (round to nearest, flush
// to zero, default NaN; ARM Architecture Reference Manual ARMv7-A, A2.7.3 "Advanced SIMD ... uses
// the standard FPSCR value"). Only subnormal floats can therefore differ from the scalar kernels;
// the comments below say why the kernels' results do not.
#pragma once

#include <arm_neon.h>

#include <cmath>
#include <cstdint>

namespace bitnet::neon_portable {

#if defined(__aarch64__)

inline float add_across(float32x4_t v) { return vaddvq_f32(v); }
inline int32_t add_across(int32x4_t v) { return vaddvq_s32(v); }
inline float max_across(float32x4_t v) { return vmaxvq_f32(v); }
inline float32x4_t pairwise_add(float32x4_t a, float32x4_t b) { return vpaddq_f32(a, b); }
inline int32x4_t pairwise_add(int32x4_t a, int32x4_t b) { return vpaddq_s32(a, b); }
inline float32x4_t divide(float32x4_t a, float32x4_t b) { return vdivq_f32(a, b); }
inline int32x4_t round_to_int_for_int8(float32x4_t v) { return vcvtnq_s32_f32(v); }
inline float32x4_t relu_max(float32x4_t a, float32x4_t b) { return vmaxnmq_f32(a, b); }
inline float square_root(float x) { return vget_lane_f32(vsqrt_f32(vdup_n_f32(x)), 0); }
inline int16x8_t mlal_high(int16x8_t acc, int8x16_t a, int8x16_t b) { return vmlal_high_s8(acc, a, b); }

#else  // 32-bit ARM

// (v0 + v1) + (v2 + v3): the order of AArch64's FADDP-based vaddvq_f32.
inline float add_across(float32x4_t v) {
    const float32x2_t pairs = vpadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(pairs, pairs), 0);
}
inline int32_t add_across(int32x4_t v) {
    const int32x2_t pairs = vpadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(pairs, pairs), 0);
}
// The kernels call it on vectors without NaN, where every order gives the same maximum.
inline float max_across(float32x4_t v) {
    const float32x2_t pairs = vpmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(pairs, pairs), 0);
}
// {a0 + a1, a2 + a3, b0 + b1, b2 + b3}, as vpaddq.
inline float32x4_t pairwise_add(float32x4_t a, float32x4_t b) {
    return vcombine_f32(vpadd_f32(vget_low_f32(a), vget_high_f32(a)), vpadd_f32(vget_low_f32(b), vget_high_f32(b)));
}
inline int32x4_t pairwise_add(int32x4_t a, int32x4_t b) {
    return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
}
// ARMv7 NEON has no division (VRECPE/VRECPS only approximate it): lane by lane through VFP's
// VDIV, which is IEEE and so equals the scalar kernels' division.
inline float32x4_t divide(float32x4_t a, float32x4_t b) {
    float x[4], y[4];
    vst1q_f32(x, a);
    vst1q_f32(y, b);
    for (int i = 0; i < 4; ++i) x[i] /= y[i];
    return vld1q_f32(x);
}
// Round half to even, for callers that saturate the result to int8 (the activation quantizer).
// ARMv7 NEON converts only by truncation (VCVT), so the rounding is done in float first: for
// |v| <= 2^22, (v + 1.5 * 2^23) - 1.5 * 2^23 is v rounded to an integer in the current (nearest,
// ties to even) mode, exact in float. Larger |v| are clamped to 2^22 first, which still saturates
// to -128/127; NaN stays NaN and converts to 0, as FCVTNS does.
inline int32x4_t round_to_int_for_int8(float32x4_t v) {
    const float32x4_t limit = vdupq_n_f32(4194304.0f);  // 2^22
    const float32x4_t magic = vdupq_n_f32(12582912.0f);  // 1.5 * 2^23
    const float32x4_t clamped = vbslq_f32(vcgtq_f32(v, limit), limit,
                                          vbslq_f32(vcltq_f32(v, vnegq_f32(limit)), vnegq_f32(limit), v));
    return vcvtq_s32_f32(vsubq_f32(vaddq_f32(clamped, magic), magic));
}
// a where a > b, else b: for relu (b = 0) this is the scalar g > 0 ? g : 0 (NaN and -0 give +0,
// as FMAXNM does). A subnormal g counts as 0 here (flush to zero), and the scalar g * g of a
// subnormal is +0 too.
inline float32x4_t relu_max(float32x4_t a, float32x4_t b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
// VFP's VSQRT is IEEE (correctly rounded), as FSQRT is.
inline float square_root(float x) { return std::sqrt(x); }
inline int16x8_t mlal_high(int16x8_t acc, int8x16_t a, int8x16_t b) {
    return vmlal_s8(acc, vget_high_s8(a), vget_high_s8(b));
}

#endif

}  // namespace bitnet::neon_portable
