// NEON gemm_head_a8 (kernels/kernels.h), baseline ARMv8.0 (no dotprod), shared by both NEON tables.
// A 32-element group of weight codes w (int8: Q8_0 as stored, Q4_0 nibble - 8, Q6_K 6-bit code -
// 32) times the activation codes q: each 16-element half by SMULL/SMLAL into int16 (|w| <= 128,
// |q| <= 127: two products stay below 2^15) and SADDLP into int32, the halves weighted by Q6_K's
// sub-block scales (1 for the others), to float, times d * activation scale into two float
// accumulators per token (even and odd groups): a fixed order that depends neither on the number of
// tokens nor on the row split.
#include <arm_neon.h>

#include <cstring>

#include "kernels/neon/neon_kernels.h"
#include "kernels/neon/neon_portable.h"

namespace bitnet::neon {
namespace {

constexpr int kMaxTokens = 4;
constexpr int64_t kRowChunkBytes = 256 * 1024;

float half_at(const uint8_t *p) {
    uint16_t bits;
    std::memcpy(&bits, p, sizeof bits);
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(bits))), 0);
}

// Σ of 16 products of a half, as 4 int32 lanes.
int32x4_t half_dot(int8x16_t w, int8x16_t q) {
    const int16x8_t products = vmlal_s8(vmull_s8(vget_low_s8(w), vget_low_s8(q)), vget_high_s8(w), vget_high_s8(q));
    return vpaddlq_s16(products);
}

// Decoders: use(group within the row, codes of elements 0-15, codes 16-31, scale of each half, d).
struct Q8_0 {
    static constexpr int64_t kBlockBytes = 34, kGroups = 1;
    template <class Use>
    static void decode(const uint8_t *block, int64_t first_group, Use &&use) {
        const auto *qs = reinterpret_cast<const int8_t *>(block + 2);
        use(first_group, vld1q_s8(qs), vld1q_s8(qs + 16), 1, 1, half_at(block));
    }
};

struct Q4_0 {
    static constexpr int64_t kBlockBytes = 18, kGroups = 1;
    template <class Use>
    static void decode(const uint8_t *block, int64_t first_group, Use &&use) {
        const uint8x16_t packed = vld1q_u8(block + 2);
        const int8x16_t eight = vdupq_n_s8(8);
        const int8x16_t low = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(15))), eight);
        const int8x16_t high = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), eight);
        use(first_group, low, high, 1, 1, half_at(block));
    }
};

struct Q6_K {
    static constexpr int64_t kBlockBytes = 210, kGroups = 8;
    template <class Use>
    static void decode(const uint8_t *block, int64_t first_group, Use &&use) {
        const float d = half_at(block + 208);
        const auto *scales = reinterpret_cast<const int8_t *>(block + 192);
        const uint8x16_t m4 = vdupq_n_u8(15), m2 = vdupq_n_u8(3);
        const int8x16_t bias = vdupq_n_s8(32);
        for (int h = 0; h < 2; ++h) {
            for (int part = 0; part < 2; ++part) {  // elements l = 16 part .. 16 part + 15 of each quarter
                const uint8_t *ql = block + 64 * h + 16 * part;
                const uint8x16_t ql0 = vld1q_u8(ql), ql1 = vld1q_u8(ql + 32);
                const uint8x16_t qh = vld1q_u8(block + 128 + 32 * h + 16 * part);
                const auto code = [&](uint8x16_t nibbles, int shift) {
                    const uint8x16_t top = vshlq_n_u8(vandq_u8(vshlq_u8(qh, vdupq_n_s8(static_cast<int8_t>(-shift))), m2), 4);
                    return vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nibbles, top)), bias);
                };
                const int8x16_t codes[4] = {code(vandq_u8(ql0, m4), 0), code(vandq_u8(ql1, m4), 2),
                                            code(vshrq_n_u8(ql0, 4), 4), code(vshrq_n_u8(ql1, 4), 6)};
                for (int quarter = 0; quarter < 4; ++quarter) {
                    const int k = 4 * h + quarter;
                    use.part(first_group + k, part, codes[quarter], scales[2 * k + part], d);
                }
            }
        }
    }
};

template <class Decoder, int T>
void rows_times_tokens(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                       const HeadActivations *x, float *out, int64_t out_stride) {
    const int64_t n_blocks = n_cols / (32 * Decoder::kGroups);
    for (int64_t r = 0; r < n_rows; ++r) {
        const uint8_t *row = weights + r * row_bytes;
        float32x4_t acc[T][2];
        for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = vdupq_n_f32(0.0f);
        // One group's weighted int32 lanes into the token's accumulator for the group's parity.
        const auto add = [&](int t, int64_t g, int32x4_t lanes, float d) {
            acc[t][g & 1] = vfmaq_f32(acc[t][g & 1], vcvtq_f32_s32(lanes), vdupq_n_f32(d * x[t].scales[g]));
        };
        if constexpr (Decoder::kGroups == 1) {
            for (int64_t b = 0; b < n_blocks; ++b) {
                Decoder::decode(row + b * Decoder::kBlockBytes, b,
                                [&](int64_t g, int8x16_t w0, int8x16_t w1, int, int, float d) {
                                    for (int t = 0; t < T; ++t) {
                                        const int8_t *q = x[t].codes + 32 * g;
                                        add(t, g, vaddq_s32(half_dot(w0, vld1q_s8(q)), half_dot(w1, vld1q_s8(q + 16))), d);
                                    }
                                });
            }
        } else {
            // Q6_K: each group arrives in two 16-element parts with their own scales; the integer
            // lanes of a group are completed before its one float step.
            int32x4_t pending[T][8];
            struct Use {
                int32x4_t (*pending)[8];
                const HeadActivations *x;
                void part(int64_t g, int p, int8x16_t w, int scale, float) const {
                    for (int t = 0; t < T; ++t) {
                        const int32x4_t lanes = vmulq_n_s32(half_dot(w, vld1q_s8(x[t].codes + 32 * g + 16 * p)), scale);
                        pending[t][g % 8] = p == 0 ? lanes : vaddq_s32(pending[t][g % 8], lanes);
                    }
                }
            };
            for (int64_t b = 0; b < n_blocks; ++b) {
                const uint8_t *block = row + b * Decoder::kBlockBytes;
                Decoder::decode(block, 8 * b, Use{pending, x});
                const float d = half_at(block + 208);
                for (int t = 0; t < T; ++t) {
                    for (int k = 0; k < 8; ++k) add(t, 8 * b + k, pending[t][k], d);
                }
            }
        }
        // add_across: vaddvq_f32 on AArch64, the same order on 32-bit ARM (neon_portable.h).
        for (int t = 0; t < T; ++t) out[t * out_stride + r] = neon_portable::add_across(vaddq_f32(acc[t][0], acc[t][1]));
    }
}

template <class Decoder>
void gemm_rows(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols, const HeadActivations *x,
               int64_t n_tokens, float *out, int64_t out_stride) {
    using Tile = void (*)(const uint8_t *, size_t, int64_t, int64_t, const HeadActivations *, float *, int64_t);
    static constexpr Tile kTiles[kMaxTokens] = {rows_times_tokens<Decoder, 1>, rows_times_tokens<Decoder, 2>,
                                                rows_times_tokens<Decoder, 3>, rows_times_tokens<Decoder, 4>};
    int64_t chunk = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
    if (chunk < 1) chunk = 1;
    for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
        const int64_t rows = n_rows - r0 < chunk ? n_rows - r0 : chunk;
        for (int64_t t = 0; t < n_tokens; t += kMaxTokens) {
            const int64_t tokens = n_tokens - t < kMaxTokens ? n_tokens - t : kMaxTokens;
            kTiles[tokens - 1](weights + r0 * row_bytes, row_bytes, rows, n_cols, x + t, out + t * out_stride + r0,
                               out_stride);
        }
    }
}

}  // namespace

void gemm_head_a8(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                  const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride) {
    switch (type) {
        case TensorType::Q8_0: return gemm_rows<Q8_0>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::Q4_0: return gemm_rows<Q4_0>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::Q6_K: return gemm_rows<Q6_K>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        default: return;
    }
}

}  // namespace bitnet::neon
