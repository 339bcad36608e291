// NEON float kernels: float-weight rows (lm_head) and attention, instantiated from
// kernels/float_kernels_impl.h with 4-lane float32x4 vectors (baseline ARMv8.0; F16 through FCVTL).
#include <arm_neon.h>

#include <math.h>

#include <cstring>

#include "kernels/float_kernels_impl.h"
#include "kernels/neon/neon_kernels.h"
#include "kernels/neon/neon_portable.h"

namespace bitnet::neon {
namespace {

struct Vec4 {
    using Float = float32x4_t;
    using Int = int32x4_t;
    static constexpr int kLanes = 4;
#if defined(__aarch64__)
    static constexpr int kRegisters = 32;  // v0-v31
#else
    static constexpr int kRegisters = 16;  // q0-q15 on 32-bit ARM
#endif

    static Float zero() { return vdupq_n_f32(0.0f); }
    static Float set1(float value) { return vdupq_n_f32(value); }
    static Float fmadd(Float a, Float b, Float acc) { return vfmaq_f32(acc, a, b); }
    static Float mul(Float a, Float b) { return vmulq_f32(a, b); }
    static Float add(Float a, Float b) { return vaddq_f32(a, b); }
    static float reduce(Float v) { return neon_portable::add_across(v); }
    static void store_f32(float *p, Float v) { vst1q_f32(p, v); }
    // v[d] lane c <- v[c] lane d, 4 x 4: TRN pairs rows 0/1 and 2/3, the 64-bit halves complete it.
    static void transpose(Float *v) {
        const float32x4x2_t p = vtrnq_f32(v[0], v[1]);  // a0 b0 a2 b2 | a1 b1 a3 b3
        const float32x4x2_t q = vtrnq_f32(v[2], v[3]);  // c0 d0 c2 d2 | c1 d1 c3 d3
        v[0] = vcombine_f32(vget_low_f32(p.val[0]), vget_low_f32(q.val[0]));
        v[1] = vcombine_f32(vget_low_f32(p.val[1]), vget_low_f32(q.val[1]));
        v[2] = vcombine_f32(vget_high_f32(p.val[0]), vget_high_f32(q.val[0]));
        v[3] = vcombine_f32(vget_high_f32(p.val[1]), vget_high_f32(q.val[1]));
    }

    // Byte loads and reinterpretation: the pointers need no alignment.
    static Float load_f32(const uint8_t *p) { return vreinterpretq_f32_u8(vld1q_u8(p)); }
    static Float load_f16(const uint8_t *p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }
    static Float load_bf16(const uint8_t *p) { return vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(p)), 16)); }
    static uint8x8_t load4(const uint8_t *p) {
        uint32_t bytes;
        std::memcpy(&bytes, p, sizeof bytes);
        return vreinterpret_u8_u32(vdup_n_u32(bytes));
    }
    static Int load_u8(const uint8_t *p) {
        return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(load4(p)))));
    }
    static Int load_i8(const uint8_t *p) {
        return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(load4(p)))));
    }

    // Shifts by a register count (USHL/SSHL; a negative count shifts right), since the counts
    // arrive as arguments rather than immediates.
    static Int and_(Int v, int mask) { return vandq_s32(v, vdupq_n_s32(mask)); }
    static Int shr(Int v, int bits) {
        return vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(v), vdupq_n_s32(-bits)));
    }
    static Int shl(Int v, int bits) { return vshlq_s32(v, vdupq_n_s32(bits)); }
    static Int or_(Int a, Int b) { return vorrq_s32(a, b); }
    static Int sub(Int v, int value) { return vsubq_s32(v, vdupq_n_s32(value)); }
    static Float to_float(Int v) { return vcvtq_f32_s32(v); }

    // FMAXNM: max(NaN, 0) is 0, like the scalar relu (g > 0 ? g * g : 0).
    static Float max(Float a, Float b) { return neon_portable::relu_max(a, b); }
    static float half(uint16_t bits) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(bits))), 0); }
    static float sqrt(float x) { return neon_portable::square_root(x); }
    static float exp(float x) { return expf(x); }  // the C function: no inline C++ wrapper to share
};

}  // namespace

BITNET_DEFINE_FLOAT_KERNELS(Vec4)

}  // namespace bitnet::neon
