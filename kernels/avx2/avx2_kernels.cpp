// AVX2 kernels (with FMA and F16C). Integer work is exact and float steps follow the scalar
// specification operation for operation, so results equal kernels/scalar/ bit for bit.
//
// Ternary × int8 products use vpmaddubsw on unsigned codes {0,1,2} (a stray 3 included) against
// signed activations: a pair sums to at most 2 * 3 * 128 = 768, so int16 never saturates, and up to
// 8 blocks (8 * 4 * 768 = 24576) are summed in int16 before vpmaddwd widens them to int32. The gemm
// driver (token tiles, row chunks, decode streaming, float steps) is kernels/ternary_gemm_impl.h;
// this file holds its policy: block decoding, dots and lane sums.
//
// Everything here has internal linkage: this file is compiled with AVX2 flags, and an inline
// function shared with other files could be merged into a copy that uses AVX2 instructions.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/avx2/avx2_kernels.h"
#include "kernels/ternary_gemm_impl.h"
#include "kernels/x86_float4_lanes.h"

namespace bitnet {
namespace {

using ternary_gemm::kI2SBlockBytes;
using ternary_gemm::kI2SBlockElements;

constexpr int64_t kInt16Blocks = 8;  // I2_S blocks summed in int16 before widening

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

BITNET_KERNEL_INLINE __m256i load256(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }

BITNET_KERNEL_INLINE int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// Lane k of the result is Σ lanes of v[k], k < 4.
BITNET_KERNEL_INLINE __m128i hsum4_epi32(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
    const __m256i a = _mm256_add_epi32(_mm256_unpacklo_epi32(v0, v1), _mm256_unpackhi_epi32(v0, v1));
    const __m256i b = _mm256_add_epi32(_mm256_unpacklo_epi32(v2, v3), _mm256_unpackhi_epi32(v2, v3));
    const __m256i c = _mm256_add_epi32(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
    return _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
}

// maskload mask for the first `count` (< 8) of 8 lanes.
__m256i tail_mask8(int64_t count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane);
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

void quantize_activations(const float *x, int64_t n, int64_t n_padded, int8_t *codes, float *scale, int32_t *sum) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 max_abs = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i < n; i += 8) {
        const __m256 v = n - i >= 8 ? _mm256_loadu_ps(x + i) : _mm256_maskload_ps(x + i, tail_mask8(n - i));
        // vmaxps returns its second operand when the first is NaN: NaN inputs are skipped.
        max_abs = _mm256_max_ps(_mm256_and_ps(v, abs_mask), max_abs);
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(max_abs), _mm256_extractf128_ps(max_abs, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float m = _mm_cvtss_f32(m4);
    const float s = 127.0f / (m > 1e-5f ? m : 1e-5f);

    const __m256 vs = _mm256_set1_ps(s);
    const __m256i lo = _mm256_set1_epi32(-128);
    const __m256i hi = _mm256_set1_epi32(127);
    // Byte 0 of each int32 to the front of its 128-bit lane, then the two lanes' dwords together.
    const __m256i gather_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4,
                                                  8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i join_lanes = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    __m256i total = _mm256_setzero_si256();
    for (i = 0; i < n; i += 8) {
        const bool full = n - i >= 8;
        const __m256 v = full ? _mm256_loadu_ps(x + i) : _mm256_maskload_ps(x + i, tail_mask8(n - i));
        // Round half to even; NaN becomes INT_MIN and then -128, like the scalar clamp.
        const __m256 rounded = _mm256_round_ps(_mm256_mul_ps(v, vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256i q = _mm256_cvtps_epi32(rounded);
        q = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
        total = _mm256_add_epi32(total, q);
        const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, gather_bytes), join_lanes);
        if (full) {
            _mm_storel_epi64(reinterpret_cast<__m128i *>(codes + i), _mm256_castsi256_si128(packed));
        } else {
            alignas(16) int8_t bytes[16];
            _mm_store_si128(reinterpret_cast<__m128i *>(bytes), _mm256_castsi256_si128(packed));
            std::memcpy(codes + i, bytes, static_cast<size_t>(n - i));
        }
    }
    if (n_padded > n) std::memset(codes + n, 0, static_cast<size_t>(n_padded - n));
    *scale = s;
    *sum = hsum_epi32(total);
}

// ---------------------------------------------------------------------------------------------
// Ternary blocks: decoding to codes 0..3 and dots with int8 activations
// ---------------------------------------------------------------------------------------------

// TQ2_0 (formats.md §1.6): one block -> eight vectors of 32 codes, for activations [32k, 32k + 32).
BITNET_KERNEL_INLINE void decode_tq2(const uint8_t *block, __m256i c[8]) {
    const __m256i mask = _mm256_set1_epi8(3);
    for (int half = 0; half < 2; ++half) {
        const __m256i w = load256(block + 32 * half);
        c[4 * half + 0] = _mm256_and_si256(w, mask);
        c[4 * half + 1] = _mm256_and_si256(_mm256_srli_epi16(w, 2), mask);
        c[4 * half + 2] = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
        c[4 * half + 3] = _mm256_and_si256(_mm256_srli_epi16(w, 6), mask);
    }
}

// Bytes times 3 and times 9, mod 256.
BITNET_KERNEL_INLINE __m256i times3(__m256i x) { return _mm256_add_epi8(x, _mm256_add_epi8(x, x)); }
BITNET_KERNEL_INLINE __m256i times9(__m256i x) {
    return _mm256_add_epi8(x, _mm256_and_si256(_mm256_slli_epi16(x, 3), _mm256_set1_epi8(static_cast<char>(0xf8))));
}

// Base-3 digit from a fixed-point byte, (p * 3) >> 8, with byte averages (ggml's trick):
// avg(p', avg(p', 0)) >> 6 with p' = max(p - 1, 0) (checked for all 256 bytes in the tests).
BITNET_KERNEL_INLINE __m256i top_trit(__m256i p) {
    const __m256i p1 = _mm256_subs_epu8(p, _mm256_set1_epi8(1));
    const __m256i x = _mm256_avg_epu8(p1, _mm256_avg_epu8(p1, _mm256_setzero_si256()));
    return _mm256_and_si256(_mm256_srli_epi16(x, 6), _mm256_set1_epi8(3));
}

// TQ1_0 (formats.md §1.6): qs[0..31] trit n -> element 32n + m; qs[32..47] trit n -> 160 + 16n + m;
// qh[j] trit n -> 240 + 4n + j.
BITNET_KERNEL_INLINE void decode_tq1(const uint8_t *block, __m256i c[8]) {
        __m256i p = load256(block);  // qs[0..31], trits 0..4 -> activations [0, 160)
        c[0] = top_trit(p);
        for (int n = 1; n < 5; ++n) {
            p = times3(p);
            c[n] = top_trit(p);
        }
        // qs[32..47] in both halves: trits (0 | 1), (2 | 3), (4 | -) -> activations [160, 240).
        const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 32)));
        const __m256i high_half = _mm256_setr_epi64x(0, 0, -1, -1);
        const __m256i q01 = _mm256_add_epi8(q, _mm256_and_si256(_mm256_add_epi8(q, q), high_half));
        const __m256i q23 = times9(q01);
        const __m128i q4 = _mm256_castsi256_si128(times9(q23));
        // qh[j] * 3^n at byte 4n + j: 16-bit multiplies for even and odd bytes, blended.
        uint32_t qh_bytes;
        std::memcpy(&qh_bytes, block + 48, sizeof qh_bytes);
        const __m128i h = _mm_set1_epi32(static_cast<int>(qh_bytes));
        const __m128i factors = _mm_setr_epi16(1, 1, 3, 3, 9, 9, 27, 27);
        const __m128i even = _mm_mullo_epi16(h, factors);
        const __m128i odd = _mm_mullo_epi16(_mm_and_si128(h, _mm_set1_epi16(static_cast<short>(0xff00))), factors);
        const __m128i hp = _mm_blendv_epi8(even, odd, _mm_set1_epi16(static_cast<short>(0xff00)));
        c[5] = top_trit(q01);
        c[6] = top_trit(q23);
        c[7] = top_trit(_mm256_inserti128_si256(_mm256_castsi128_si256(q4), hp, 1));
}

// Σ code * q over one block as int32 lanes: int16 sums of eight vpmaddubsw (at most 8 * 768), widened.
BITNET_KERNEL_INLINE __m256i block_code_dot(const __m256i c[8], const int8_t *q) {
    __m256i s = _mm256_maddubs_epi16(c[0], load256(q));
    for (int k = 1; k < 8; ++k) s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c[k], load256(q + 32 * k)));
    return _mm256_madd_epi16(s, _mm256_set1_epi16(1));
}

// The policy of kernels/ternary_gemm_impl.h: one row at a time, codes 0..3 (activation sums
// subtracted by the driver), 4-lane float steps in xmm registers.
struct Avx2Ternary : X86Float4Lanes {
    static constexpr int kTileRows = 1;
    static constexpr bool kTQDotsCodes = true;
    using Wide = __m256i;

    static Wide wide_zero() { return _mm256_setzero_si256(); }
    static Int4 sum_lanes4(Wide v0, Wide v1, Wide v2, Wide v3) { return hsum4_epi32(v0, v1, v2, v3); }
    static int32_t sum_lanes(Wide v) { return hsum_epi32(v); }

    // I2_S (formats.md §2.2): groups 0..3 of a block (activations [32g, 32g + 32)) at shifts 6, 4,
    // 2, 0; int16 sums of up to kInt16Blocks blocks, then widened.
    template <int R, int T>
    BITNET_KERNEL_INLINE static void i2s_dots(const uint8_t *row, size_t /*row_bytes*/, int64_t n_blocks,
                                              const int8_t *const *codes, int32_t *dots) {
        static_assert(R == 1);
        const __m256i mask = _mm256_set1_epi8(3);
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i acc[T];
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_si256();
        for (int64_t b0 = 0; b0 < n_blocks; b0 += kInt16Blocks) {
            const int64_t b_end = min64(n_blocks, b0 + kInt16Blocks);
            __m256i acc16[T];
            for (int t = 0; t < T; ++t) acc16[t] = _mm256_setzero_si256();
            for (int64_t b = b0; b < b_end; ++b) {
                const __m256i w = load256(row + b * kI2SBlockBytes);
                const __m256i c0 = _mm256_and_si256(_mm256_srli_epi16(w, 6), mask);
                const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
                const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(w, 2), mask);
                const __m256i c3 = _mm256_and_si256(w, mask);
                const int64_t offset = b * kI2SBlockElements;
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const int8_t *q = codes[t] + offset;
                    const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(c0, load256(q)),
                                                         _mm256_maddubs_epi16(c1, load256(q + 32)));
                    const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(c2, load256(q + 64)),
                                                         _mm256_maddubs_epi16(c3, load256(q + 96)));
                    acc16[t] = _mm256_add_epi16(acc16[t], _mm256_add_epi16(p01, p23));
                }
            }
            for (int t = 0; t < T; ++t) acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(acc16[t], ones));
        }
        for (int t = 0; t < T; ++t) dots[t] = hsum_epi32(acc[t]);
    }

    // Σ of the 256 codes of one TQ block: vpmaddubsw with ones, widened.
    BITNET_KERNEL_INLINE static int32_t code_sum(const int8_t *q) {
        const __m256i ones8 = _mm256_set1_epi8(1);
        __m256i s = _mm256_setzero_si256();
        for (int k = 0; k < 8; ++k) s = _mm256_add_epi16(s, _mm256_maddubs_epi16(ones8, load256(q + 32 * k)));
        return hsum_epi32(_mm256_madd_epi16(s, _mm256_set1_epi16(1)));
    }

    template <TernaryLayout L, int T>
    BITNET_KERNEL_INLINE static void tq_block_dots(const uint8_t *block, const int8_t *const *q, Wide *dots) {
        __m256i c[8];
        if constexpr (L == TernaryLayout::TQ2) decode_tq2(block, c);
        else decode_tq1(block, c);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) dots[t] = block_code_dot(c, q[t]);
    }
};

using Gemm = ternary_gemm::TernaryGemm<Avx2Ternary>;

// ---------------------------------------------------------------------------------------------
// Float dot product
// ---------------------------------------------------------------------------------------------

// The fixed rule of KernelTable::dot_f32: partials p0..p3 in `low`, p4..p7 in `high` (element i
// into p[i % 8]); the products are exact in double, so the FMA equals the scalar multiply-add.
float dot_f32(const float *a, const float *b, int64_t n) {
    __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        low = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + i)), _mm256_cvtps_pd(_mm_loadu_ps(b + i)), low);
        high = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + i + 4)), _mm256_cvtps_pd(_mm_loadu_ps(b + i + 4)), high);
    }
    alignas(32) double p[kDotF32Partials];
    _mm256_store_pd(p, low);
    _mm256_store_pd(p + 4, high);
    for (int k = 0; i < n; ++i, ++k) p[k] += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return static_cast<float>(((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7])));
}

const KernelTable kAvx2Table = {
    "avx2",
    quantize_activations,
    {Gemm::gemm_i2s, Gemm::gemm_tq<TernaryLayout::TQ2>, Gemm::gemm_tq<TernaryLayout::TQ1>},
    dot_f32,
    avx2::gemm_float,
    avx2::attention_scores,
    avx2::attention_values,
    avx2::rms_norm,
    avx2::gated_activation,
    avx2::softmax,
    avx2::gemm_head_a8,
};

}  // namespace

const KernelTable &avx2_kernels() { return kAvx2Table; }

}  // namespace bitnet
