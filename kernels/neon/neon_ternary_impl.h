// The NEON policy of the ternary gemm driver (kernels/ternary_gemm_impl.h), written once over a
// multiply-accumulate policy M that each including file declares in its own anonymous namespace:
//   - neon_kernels.cpp: SMLAL (vmlal_s8) into int16 lanes, widened to int32 with SADALP
//     (baseline ARMv8.0, every AArch64 CPU);
//   - neon_dotprod_kernels.cpp: SDOT (vdotq_s32) straight into int32 lanes (ARMv8.2 dotprod).
// Everything here is a member of NeonTernary<M>: instantiated with a file-local M, each file gets
// its own copies (and its own TernaryGemm<NeonTernary<M>>) with internal linkage, so code compiled
// for dotprod can never be merged into the baseline variant.
//
// M provides: Acc (the partial-sum type); zero(); mac(Acc, int8x16_t codes, int8x16_t q) adding
// codes[i] * q[i] over 16 lanes; widen(Acc, int32x4_t) adding an Acc's lanes into int32 lanes; and
// kI2SBlocksPerWiden, the I2_S blocks an Acc may sum before it must be widened.
//
// Integer dots are exact and the driver's float steps are those of kernels/scalar/, in the same
// order (kernels.h): results equal the scalar kernels bit for bit. The files must be compiled with
// -ffp-contract=off (as the scalar ones are), or GCC fuses a multiply and add into one rounding.
//
// Layouts (formats.md §1.6, §2.2): I2_S blocks of 128 elements in 32 bytes, element 32g + j at byte
// j, bits (7 - 2g):(6 - 2g); TQ2_0 blocks of 256 in 66 bytes, element 128c + 32l + m at byte
// 32c + m, bits (2l + 1):2l, f16 d at 64; TQ1_0 blocks of 256 in 54 bytes, base-3 fixed-point
// trits (qs[0..31] -> 32n + m, qs[32..47] -> 160 + 16n + m, qh[0..3] -> 240 + 4n + j), f16 d at 52.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/neon/neon_portable.h"
#include "kernels/ternary_gemm_impl.h"

namespace bitnet::neon_ternary {

template <class M>
struct NeonTernary {
    // One row at a time; TQ blocks are decoded to ternary values (code - 1), so block dots need no
    // activation sums.
    static constexpr int kTileRows = 1;
    static constexpr bool kTQDotsCodes = false;
    using Wide = int32x4_t;
    using Int4 = int32x4_t;
    using Float4 = float32x4_t;

    static Wide wide_zero() { return vdupq_n_s32(0); }
    // Lane t of the result: Σ of the lanes of v[t].
    static Int4 sum_lanes4(Wide v0, Wide v1, Wide v2, Wide v3) {
        return neon_portable::pairwise_add(neon_portable::pairwise_add(v0, v1), neon_portable::pairwise_add(v2, v3));
    }
    static int32_t sum_lanes(Wide v) { return neon_portable::add_across(v); }
    static Float4 to_float4(Int4 v) { return vcvtq_f32_s32(v); }
    static Float4 add4(Float4 a, Float4 b) { return vaddq_f32(a, b); }
    static Float4 mul4(Float4 a, Float4 b) { return vmulq_f32(a, b); }
    static Float4 div4(Float4 a, Float4 b) { return neon_portable::divide(a, b); }
    static Float4 set4(float v) { return vdupq_n_f32(v); }
    static Float4 load4(const float *p) { return vld1q_f32(p); }
    static void store4(float *p, Float4 v) { vst1q_f32(p, v); }
    // binary16 -> float with FCVTL: exact for every value, subnormals included.
    static Float4 half4(const uint16_t *bits) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(bits))); }
    static float half(uint16_t bits) {
        return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(bits))), 0);
    }

    static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

    // -----------------------------------------------------------------------------------------
    // I2_S: Σ code * q with codes {0..3} as they are (the driver subtracts the activation sum).
    // Group g of a block (activations [32g, 32g + 32)) sits at shift 6 - 2g.
    // -----------------------------------------------------------------------------------------

    // Several independent partial sums per token when tokens are few: more multiply-accumulate
    // chains in flight (SMLAL and SDOT have latencies of 3-4 cycles).
    template <int R, int T>
    static void i2s_dots(const uint8_t *row, size_t /*row_bytes*/, int64_t n_blocks, const int8_t *const *codes,
                         int32_t *dots) {
        static_assert(R == 1);
        constexpr int kSets = T == 1 ? 4 : T == 2 ? 2 : 1;
        const uint8x16_t three = vdupq_n_u8(3);
        int32x4_t acc[T];
        for (int t = 0; t < T; ++t) acc[t] = vdupq_n_s32(0);
        for (int64_t b0 = 0; b0 < n_blocks; b0 += M::kI2SBlocksPerWiden) {
            const int64_t b_end = min64(n_blocks, b0 + M::kI2SBlocksPerWiden);
            typename M::Acc part[T][kSets];
            for (int t = 0; t < T; ++t) {
                for (int s = 0; s < kSets; ++s) part[t][s] = M::zero();
            }
            for (int64_t b = b0; b < b_end; ++b) {
                const uint8_t *block = row + b * ternary_gemm::kI2SBlockBytes;
                const uint8x16_t w0 = vld1q_u8(block), w1 = vld1q_u8(block + 16);
                const int8x16_t c[8] = {
                    vreinterpretq_s8_u8(vshrq_n_u8(w0, 6)),
                    vreinterpretq_s8_u8(vshrq_n_u8(w1, 6)),
                    vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w0, 4), three)),
                    vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w1, 4), three)),
                    vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w0, 2), three)),
                    vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(w1, 2), three)),
                    vreinterpretq_s8_u8(vandq_u8(w0, three)),
                    vreinterpretq_s8_u8(vandq_u8(w1, three)),
                };
                const int64_t offset = b * ternary_gemm::kI2SBlockElements;
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const int8_t *q = codes[t] + offset;
#pragma GCC unroll 8
                    for (int k = 0; k < 8; ++k) {
                        part[t][k % kSets] = M::mac(part[t][k % kSets], c[k], vld1q_s8(q + 16 * k));
                    }
                }
            }
            for (int t = 0; t < T; ++t) {
                for (int s = 0; s < kSets; ++s) acc[t] = M::widen(part[t][s], acc[t]);
            }
        }
        for (int t = 0; t < T; ++t) dots[t] = neon_portable::add_across(acc[t]);
    }

    // -----------------------------------------------------------------------------------------
    // TQ2_0 and TQ1_0: the decoders hand over ternary values (code - 1, in -1..2) as int8, so
    // block dots need no activation sums.
    // -----------------------------------------------------------------------------------------

    static int8x16_t minus_one(uint8x16_t codes) { return vsubq_s8(vreinterpretq_s8_u8(codes), vdupq_n_s8(1)); }

    // decode(block, use) calls use(k, values) with the 16 values for activations [16k, 16k + 16),
    // k = 0..15 (a constant once the calls are inlined).
    struct TQ2 {
        template <class Use>
        static void decode(const uint8_t *block, Use &&use) {
            const uint8x16_t three = vdupq_n_u8(3);
#pragma GCC unroll 2
            for (int c = 0; c < 2; ++c) {
                const uint8x16_t w0 = vld1q_u8(block + 32 * c), w1 = vld1q_u8(block + 32 * c + 16);
                use(8 * c + 0, minus_one(vandq_u8(w0, three)));
                use(8 * c + 1, minus_one(vandq_u8(w1, three)));
                use(8 * c + 2, minus_one(vandq_u8(vshrq_n_u8(w0, 2), three)));
                use(8 * c + 3, minus_one(vandq_u8(vshrq_n_u8(w1, 2), three)));
                use(8 * c + 4, minus_one(vandq_u8(vshrq_n_u8(w0, 4), three)));
                use(8 * c + 5, minus_one(vandq_u8(vshrq_n_u8(w1, 4), three)));
                use(8 * c + 6, minus_one(vshrq_n_u8(w0, 6)));
                use(8 * c + 7, minus_one(vshrq_n_u8(w1, 6)));
            }
        }
    };

    // Trit of a fixed-point byte p (already multiplied by 3^n mod 256), minus one. The trit is
    // (p * 3) >> 8, which is [p >= 86] + [p >= 171]; the comparisons give -1 for true, so their
    // sum m is -trit and trit - 1 = -m - 1 = ~m. (Checked for every byte value by the tests.)
    static int8x16_t trit_minus_one(uint8x16_t p) {
        const uint8x16_t m = vaddq_u8(vcgeq_u8(p, vdupq_n_u8(86)), vcgeq_u8(p, vdupq_n_u8(171)));
        return vreinterpretq_s8_u8(vmvnq_u8(m));
    }

    struct TQ1 {
        template <class Use>
        static void decode(const uint8_t *block, Use &&use) {
            const uint8x16_t three = vdupq_n_u8(3);
            // qs[0..31]: trit n of byte m -> element 32n + m; qs[32..47]: -> 160 + 16n + m.
            uint8x16_t p0 = vld1q_u8(block), p1 = vld1q_u8(block + 16), p2 = vld1q_u8(block + 32);
#pragma GCC unroll 5
            for (int n = 0; n < 5; ++n) {
                use(2 * n, trit_minus_one(p0));
                use(2 * n + 1, trit_minus_one(p1));
                use(10 + n, trit_minus_one(p2));
                p0 = vmulq_u8(p0, three);
                p1 = vmulq_u8(p1, three);
                p2 = vmulq_u8(p2, three);
            }
            // qh[j] trit n -> element 240 + 4n + j: lanes 4n + j hold qh[j] * 3^n.
            uint32_t qh;
            std::memcpy(&qh, block + 48, sizeof qh);
            static constexpr uint8_t kPowers[16] = {1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27};
            const uint8x16_t h = vmulq_u8(vreinterpretq_u8_u32(vdupq_n_u32(qh)), vld1q_u8(kPowers));
            use(15, trit_minus_one(h));
        }
    };

    // One block decoded once for T tokens: dots[t] = Σ (code - 1) * q[t] in int32 lanes, with two
    // partial sums per token when tokens are few (more chains in flight).
    template <TernaryLayout L, int T>
    static void tq_block_dots(const uint8_t *block, const int8_t *const *q, Wide *dots) {
        using D = std::conditional_t<L == TernaryLayout::TQ2, TQ2, TQ1>;
        constexpr int kSets = T <= 2 ? 2 : 1;
        typename M::Acc part[T][kSets];
        for (int t = 0; t < T; ++t) {
            for (int s = 0; s < kSets; ++s) part[t][s] = M::zero();
        }
        D::decode(block, [&](int k, int8x16_t values) {
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                part[t][k % kSets] = M::mac(part[t][k % kSets], values, vld1q_s8(q[t] + 16 * k));
            }
        });
        for (int t = 0; t < T; ++t) {
            int32x4_t sum = vdupq_n_s32(0);
            for (int s = 0; s < kSets; ++s) sum = M::widen(part[t][s], sum);
            dots[t] = sum;
        }
    }
};

}  // namespace bitnet::neon_ternary
