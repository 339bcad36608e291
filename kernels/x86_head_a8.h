// gemm_head_a8 (kernels/kernels.h) for x86 with 256-bit integer vectors, instantiated by the AVX2
// file with its byte-dot policy (maddubs + madd). AVX-512 has its own (avx512_head_kernels.cpp:
// 512-bit steps with work shared across tokens, 1.5-2.7x this template's rate at 4-16 tokens).
// Included only by files compiled with AVX2/FMA/F16C flags or more; the template
// lives in an anonymous namespace so each ISA file gets its own copy (x86_float4_lanes.h says why).
//
// Each 32-element group of weight codes w (int8: Q8_0 as stored, Q4_0 nibble - 8, Q6_K 6-bit code
// - 32) meets the activation codes q as unsigned |w| times q with w's sign (the usual trick for
// the unsigned-by-signed byte dot): |w| <= 128 and |q| <= 127, so no pair sum saturates int16.
// The dot leaves 8 int32 lanes, lane j holding elements 4j..4j+3, so lanes 0-3 are the first 16
// elements (Q6_K's first sub-block) and lanes 4-7 the second. Lanes go to float, times the group's
// factor, into two float accumulators per token (even and odd groups) reduced at the end: a fixed
// order per ISA that depends neither on the number of tokens nor on the row split.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace bitnet {
namespace {

template <class Dot>
struct X86HeadA8 {
    static constexpr int kMaxTokens = 4;
    static constexpr int64_t kRowChunkBytes = 256 * 1024;  // rows that stay cached across token tiles

    static float half(const uint8_t *p) { return _cvtsh_ss(static_cast<uint16_t>(p[0] | p[1] << 8)); }

    // Σ over 4-element runs of w * q, as 8 int32 lanes.
    static __m256i dot(__m256i w, __m256i q) { return Dot::dot(_mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w)); }

    static float reduce(__m256 v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }

    // Block decoders: use(group index within the row, codes, factor lanes, d) for each group of
    // the block. `lanes` multiplies the dot's lanes before d * activation scale (Q6_K's sub-block
    // scales; ones for the others).
    struct Q8_0 {
        static constexpr int64_t kBlockBytes = 34, kGroups = 1;
        template <class Use>
        static void decode(const uint8_t *block, int64_t first_group, Use &&use) {
            use(first_group, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 2)), _mm256_set1_ps(1.0f),
                half(block));
        }
    };
    struct Q4_0 {
        static constexpr int64_t kBlockBytes = 18, kGroups = 1;
        template <class Use>
        static void decode(const uint8_t *block, int64_t first_group, Use &&use) {
            const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 2));
            const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(15));
            const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(15));
            const __m256i codes = _mm256_sub_epi8(_mm256_set_m128i(high, low), _mm256_set1_epi8(8));
            use(first_group, codes, _mm256_set1_ps(1.0f), half(block));
        }
    };
    struct Q6_K {
        static constexpr int64_t kBlockBytes = 210, kGroups = 8;
        template <class Use>
        static void decode(const uint8_t *block, int64_t first_group, Use &&use) {
            const float d = half(block + 208);
            const auto *scales = reinterpret_cast<const int8_t *>(block + 192);
            const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
            for (int h = 0; h < 2; ++h) {
                const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 64 * h));
                const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 64 * h + 32));
                const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 128 + 32 * h));
                const auto top = [&](int shift) {
                    return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m2), 4);
                };
                const __m256i codes[4] = {
                    _mm256_or_si256(_mm256_and_si256(ql0, m4), top(0)),
                    _mm256_or_si256(_mm256_and_si256(ql1, m4), top(2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), top(4)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), top(6)),
                };
                for (int quarter = 0; quarter < 4; ++quarter) {
                    const int k = 4 * h + quarter;
                    const __m256 lanes = _mm256_set_m128(_mm_set1_ps(static_cast<float>(scales[2 * k + 1])),
                                                         _mm_set1_ps(static_cast<float>(scales[2 * k])));
                    use(first_group + k, _mm256_sub_epi8(codes[quarter], bias), lanes, d);
                }
            }
        }
    };

    template <class Decoder, int T>
    static void rows_times_tokens(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                                  const HeadActivations *x, float *out, int64_t out_stride) {
        const int64_t n_blocks = n_cols / (32 * Decoder::kGroups);
        for (int64_t r = 0; r < n_rows; ++r) {
            const uint8_t *row = weights + r * row_bytes;
            __m256 acc[T][2];
            for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
            for (int64_t b = 0; b < n_blocks; ++b) {
                Decoder::decode(row + b * Decoder::kBlockBytes, b * Decoder::kGroups,
                                [&](int64_t g, __m256i codes, __m256 lanes, float d) {
                                    for (int t = 0; t < T; ++t) {
                                        const __m256i q =
                                            _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[t].codes + 32 * g));
                                        const __m256 factor = _mm256_mul_ps(lanes, _mm256_set1_ps(d * x[t].scales[g]));
                                        acc[t][g & 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot(codes, q)), factor,
                                                                        acc[t][g & 1]);
                                    }
                                });
            }
            for (int t = 0; t < T; ++t) out[t * out_stride + r] = reduce(_mm256_add_ps(acc[t][0], acc[t][1]));
        }
    }

    template <class Decoder>
    static void gemm_rows(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                          const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride) {
        using Tile = void (*)(const uint8_t *, size_t, int64_t, int64_t, const HeadActivations *, float *, int64_t);
        static constexpr Tile kTiles[kMaxTokens] = {rows_times_tokens<Decoder, 1>, rows_times_tokens<Decoder, 2>,
                                                    rows_times_tokens<Decoder, 3>, rows_times_tokens<Decoder, 4>};
        int64_t chunk = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
        if (chunk < 1) chunk = 1;
        for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
            const int64_t rows = n_rows - r0 < chunk ? n_rows - r0 : chunk;
            for (int64_t t = 0; t < n_tokens; t += kMaxTokens) {
                const int64_t tokens = n_tokens - t < kMaxTokens ? n_tokens - t : kMaxTokens;
                kTiles[tokens - 1](weights + r0 * row_bytes, row_bytes, rows, n_cols, x + t,
                                   out + t * out_stride + r0, out_stride);
            }
        }
    }

    static void gemm(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                     const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride) {
        switch (type) {
            case TensorType::Q8_0: return gemm_rows<Q8_0>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
            case TensorType::Q4_0: return gemm_rows<Q4_0>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
            case TensorType::Q6_K: return gemm_rows<Q6_K>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
            default: return;  // the backend sends only these three types here
        }
    }
};

}  // namespace
}  // namespace bitnet
