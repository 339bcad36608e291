// The ternary × int8 gemms (I2_S, TQ2_0, TQ1_0) for NEON, written once over a multiply-accumulate
// policy M that each including file declares in its own anonymous namespace:
//   - neon_kernels.cpp: SMLAL (vmlal_s8) into int16 lanes, widened to int32 with SADALP
//     (baseline ARMv8.0, every AArch64 CPU);
//   - neon_dotprod_kernels.cpp: SDOT (vdotq_s32) straight into int32 lanes (ARMv8.2 dotprod).
// Everything here is a member of Ternary<M>: instantiated with a file-local M, each file gets its
// own copies with internal linkage, so code compiled for dotprod can never be merged into the
// baseline variant.
//
// M provides: Acc (the partial-sum type); zero(); mac(Acc, int8x16_t codes, int8x16_t q) adding
// codes[i] * q[i] over 16 lanes; widen(Acc, int32x4_t) adding an Acc's lanes into int32 lanes; and
// kI2SBlocksPerWiden, the I2_S blocks an Acc may sum before it must be widened.
//
// Integer dots are exact and the float steps are those of kernels/scalar/, in the same order
// (kernels.h): results equal the scalar kernels bit for bit. The files must be compiled with
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

#include "kernels/kernels.h"

namespace bitnet::neon_ternary {

template <class M>
struct Ternary {
    static constexpr int64_t kI2SBlockElements = 128;
    static constexpr int64_t kI2SBlockBytes = 32;
    static constexpr int64_t kTQBlockElements = 256;
    static constexpr int kTileTokens = 4;
    // Rows whose weights stay in cache while every tile of tokens passes over them.
    static constexpr int64_t kRowChunkBytes = 192 * 1024;

    static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

    static int64_t row_chunk_rows(size_t row_bytes) {
        const int64_t rows = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
        return rows < 1 ? 1 : rows;
    }

    static uint16_t load_u16(const uint8_t *p) {
        uint16_t v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }

    // binary16 -> float with FCVTL: exact for every value, subnormals included.
    static float half(uint16_t bits) {
        return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(bits))), 0);
    }

    // Lane t of the result: Σ of the lanes of v[t].
    static int32x4_t sum_lanes4(int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3) {
        return vpaddq_s32(vpaddq_s32(v0, v1), vpaddq_s32(v2, v3));
    }

    // -----------------------------------------------------------------------------------------
    // I2_S: Σ code * q with codes {0..3} as they are, then minus the activation sum (kernels.h).
    // Group g of a block (activations [32g, 32g + 32)) sits at shift 6 - 2g.
    // -----------------------------------------------------------------------------------------

    // Several independent partial sums per token when tokens are few: more multiply-accumulate
    // chains in flight (SMLAL and SDOT have latencies of 3-4 cycles).
    template <int T>
    static void i2s_row(const uint8_t *row, int64_t n_blocks, const QuantizedRow *act, float weight_scale,
                        float *out, int64_t out_stride) {
        constexpr int kSets = T == 1 ? 4 : T == 2 ? 2 : 1;
        const uint8x16_t three = vdupq_n_u8(3);
        const int8_t *codes[T];
        int32x4_t acc[T];
        for (int t = 0; t < T; ++t) {
            codes[t] = act[t].codes;
            acc[t] = vdupq_n_s32(0);
        }
        for (int64_t b0 = 0; b0 < n_blocks; b0 += M::kI2SBlocksPerWiden) {
            const int64_t b_end = min64(n_blocks, b0 + M::kI2SBlocksPerWiden);
            typename M::Acc part[T][kSets];
            for (int t = 0; t < T; ++t) {
                for (int s = 0; s < kSets; ++s) part[t][s] = M::zero();
            }
            for (int64_t b = b0; b < b_end; ++b) {
                const uint8_t *block = row + b * kI2SBlockBytes;
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
                const int64_t offset = b * kI2SBlockElements;
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
        for (int t = 0; t < T; ++t) {
            const int32_t dot = vaddvq_s32(acc[t]) - act[t].sum;
            out[t * out_stride] = static_cast<float>(dot) / act[t].scale * weight_scale;
        }
    }

    static void gemm_i2s(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                         const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                         int64_t out_stride) {
        using Row = void (*)(const uint8_t *, int64_t, const QuantizedRow *, float, float *, int64_t);
        static constexpr Row kRows[kTileTokens] = {i2s_row<1>, i2s_row<2>, i2s_row<3>, i2s_row<4>};
        const int64_t n_blocks = n_cols / kI2SBlockElements;
        const int64_t chunk = row_chunk_rows(row_bytes);
        for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
            const int64_t r_end = min64(n_rows, r0 + chunk);
            for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
                const int64_t tokens = min64(kTileTokens, n_tokens - t);
                for (int64_t r = r0; r < r_end; ++r) {
                    kRows[tokens - 1](weights + r * row_bytes, n_blocks, activations + t, weight_scale,
                                      out + t * out_stride + r, out_stride);
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // TQ2_0 and TQ1_0: the decoders hand over ternary values (code - 1, in -1..2) as int8, so
    // block dots need no activation sums; per block, acc = acc + d * (float)dot in block order.
    // -----------------------------------------------------------------------------------------

    static int8x16_t minus_one(uint8x16_t codes) { return vsubq_s8(vreinterpretq_s8_u8(codes), vdupq_n_s8(1)); }

    // decode(block, use) calls use(k, values) with the 16 values for activations [16k, 16k + 16),
    // k = 0..15 (a constant once the calls are inlined).
    struct TQ2 {
        static constexpr int64_t kBlockBytes = 66;
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
        static constexpr int64_t kBlockBytes = 54;
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

    // Prefill: each block decoded once for T tokens; lane t of `partial` is token t's float sum.
    template <class D, int T>
    static void tq_row(const uint8_t *row, int64_t n_blocks, const QuantizedRow *act, float weight_scale,
                       float *out, int64_t out_stride) {
        constexpr int kSets = T <= 2 ? 2 : 1;
        float32x4_t partial = vdupq_n_f32(0.0f);
        for (int64_t b = 0; b < n_blocks; ++b) {
            const uint8_t *block = row + b * D::kBlockBytes;
            const int64_t offset = b * kTQBlockElements;
            typename M::Acc part[T][kSets];
            for (int t = 0; t < T; ++t) {
                for (int s = 0; s < kSets; ++s) part[t][s] = M::zero();
            }
            D::decode(block, [&](int k, int8x16_t values) {
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    part[t][k % kSets] = M::mac(part[t][k % kSets], values, vld1q_s8(act[t].codes + offset + 16 * k));
                }
            });
            int32x4_t sums[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
            for (int t = 0; t < T; ++t) {
                for (int s = 0; s < kSets; ++s) sums[t] = M::widen(part[t][s], sums[t]);
            }
            const float32x4_t dots = vcvtq_f32_s32(sum_lanes4(sums[0], sums[1], sums[2], sums[3]));
            partial = vaddq_f32(partial, vmulq_n_f32(dots, half(load_u16(block + D::kBlockBytes - 2))));
        }
        float scales[4] = {1.0f, 1.0f, 1.0f, 1.0f};
        for (int t = 0; t < T; ++t) scales[t] = act[t].scale;
        float result[4];
        vst1q_f32(result, vmulq_n_f32(vdivq_f32(partial, vld1q_f32(scales)), weight_scale));
        for (int t = 0; t < T; ++t) out[t * out_stride] = result[t];
    }

    // Decode: rows one after another, four blocks per step whose dots are reduced together; the
    // float sum still adds one block at a time, in order.
    template <class D>
    static void tq_row_one_token(const uint8_t *row, int64_t n_blocks, const QuantizedRow &act, float weight_scale,
                                 float *out) {
        float partial = 0.0f;
        int64_t b = 0;
        for (; b + 4 <= n_blocks; b += 4) {
            int32x4_t sums[4];
            uint16_t scales[4];
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const uint8_t *block = row + (b + j) * D::kBlockBytes;
                const int8_t *q = act.codes + (b + j) * kTQBlockElements;
                typename M::Acc part[2] = {M::zero(), M::zero()};
                D::decode(block, [&](int k, int8x16_t values) {
                    part[k % 2] = M::mac(part[k % 2], values, vld1q_s8(q + 16 * k));
                });
                sums[j] = M::widen(part[1], M::widen(part[0], vdupq_n_s32(0)));
                scales[j] = load_u16(block + D::kBlockBytes - 2);
            }
            const float32x4_t d = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(scales)));
            const float32x4_t terms = vmulq_f32(d, vcvtq_f32_s32(sum_lanes4(sums[0], sums[1], sums[2], sums[3])));
            partial = partial + vgetq_lane_f32(terms, 0);
            partial = partial + vgetq_lane_f32(terms, 1);
            partial = partial + vgetq_lane_f32(terms, 2);
            partial = partial + vgetq_lane_f32(terms, 3);
        }
        for (; b < n_blocks; ++b) {
            const uint8_t *block = row + b * D::kBlockBytes;
            const int8_t *q = act.codes + b * kTQBlockElements;
            typename M::Acc part[2] = {M::zero(), M::zero()};
            D::decode(block, [&](int k, int8x16_t values) {
                part[k % 2] = M::mac(part[k % 2], values, vld1q_s8(q + 16 * k));
            });
            const int32_t dot = vaddvq_s32(M::widen(part[1], M::widen(part[0], vdupq_n_s32(0))));
            const float term = half(load_u16(block + D::kBlockBytes - 2)) * static_cast<float>(dot);
            partial = partial + term;
        }
        *out = partial / act.scale * weight_scale;
    }

    template <class D>
    static void gemm_tq(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                        const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                        int64_t out_stride) {
        using Row = void (*)(const uint8_t *, int64_t, const QuantizedRow *, float, float *, int64_t);
        static constexpr Row kRows[kTileTokens] = {tq_row<D, 1>, tq_row<D, 2>, tq_row<D, 3>, tq_row<D, 4>};
        const int64_t n_blocks = n_cols / kTQBlockElements;
        if (n_tokens == 1) {
            for (int64_t r = 0; r < n_rows; ++r) {
                tq_row_one_token<D>(weights + r * row_bytes, n_blocks, activations[0], weight_scale, out + r);
            }
            return;
        }
        const int64_t chunk = row_chunk_rows(row_bytes);
        for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
            const int64_t r_end = min64(n_rows, r0 + chunk);
            for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
                const int64_t tokens = min64(kTileTokens, n_tokens - t);
                for (int64_t r = r0; r < r_end; ++r) {
                    kRows[tokens - 1](weights + r * row_bytes, n_blocks, activations + t, weight_scale,
                                      out + t * out_stride + r, out_stride);
                }
            }
        }
    }

    static void gemm_tq2(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                         const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                         int64_t out_stride) {
        gemm_tq<TQ2>(weights, row_bytes, n_rows, n_cols, activations, n_tokens, weight_scale, out, out_stride);
    }

    static void gemm_tq1(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                         const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                         int64_t out_stride) {
        gemm_tq<TQ1>(weights, row_bytes, n_rows, n_cols, activations, n_tokens, weight_scale, out, out_stride);
    }
};

}  // namespace bitnet::neon_ternary
