// AVX-512 gemm_head_a8 (kernels/kernels.h): the quantized lm_head with int8 activations, two
// 32-element groups per 512-bit step, one weight row times up to 8 tokens at a time.
//
// Why not the 256-bit x86 template (x86_head_a8.h, which AVX2 keeps): with several tokens
// (parallel sequences, speculative verification) the head is bound by the work done per token,
// not by the weight bytes. Per token and group that template takes the signs of q, a vpdpbusd, a
// conversion, a scalar d * scale broadcast, a multiply and an fma (kernel-bench, one core: 37 G
// MAC/s at 8 tokens, where the ternary projections reach 330-400). Here, per token and pair of
// groups, there are four: vpdpbusd, conversion, multiply, fma, with everything that depends on
// one side only done once:
//   - vpdpbusd multiplies unsigned by signed bytes. The activation codes q in [-127, 127] become
//     u = q + 128 (a xor with 0x80, once per token) and each weight row's dot starts from
//     -128 * sum(w) (once per row, shared by every token): sum(u * w) - 128 * sum(w) = sum(q * w),
//     exact in int32 (|u * w| <= 255 * 128, four per lane).
//   - the float factor of a group is the weight's factor (d, times Q6_K's sub-block scale: per
//     row) times the token's scales[g] (per token). For Q8_0 and Q4_0 that is the template's
//     d * scales[g], so their logits are bit-identical to it; Q6_K rounds (sc * d) * scales[g]
//     where the template rounds sc * (d * scales[g]).
//
// Float order, per token and row: the 8 int32 lanes of even groups accumulate, group after group,
// in the low half of one vector and those of odd groups in the high half; at the end the halves
// are added and the 8 lanes summed (x86_head_a8.h's order: the even/odd accumulators of its
// 256-bit lanes). Nothing in it depends on the tile's size or the row split, so a token's logits
// do not depend on the batch (tests/test_head_a8.cpp).

// GCC 12's AVX-512 headers read an uninitialised "undefined" vector inside _mm512_extractf32x8_ps,
// _mm512_broadcast_i64x4 and friends and warn about it (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/avx512/avx512_kernels.h"

namespace bitnet::avx512 {
namespace {

float half(const uint8_t *p) { return _cvtsh_ss(static_cast<uint16_t>(p[0] | p[1] << 8)); }

__m512i join(__m256i low, __m256i high) { return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1); }
__m512 join(float low, float high) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(low)), _mm256_set1_ps(high), 1);
}
__m256i load256(const uint8_t *p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)); }

// Weight decoders: pair<kSecond>(row, p, codes, factors) gives groups 2p and 2p + 1 of a row as
// 64 int8 codes (low half: group 2p) and 16 float lanes of the weight's factor, lane j covering
// codes 4j..4j+3. kSecond false: group 2p is the row's last (an odd group count); the high half is
// zero codes and zero factors, which add exactly nothing.

// Q8_0 (formats.md §1.6): blocks of 32 codes after an f16 d, 34 bytes.
struct Q8_0 {
    static constexpr int64_t kPairBytes = 68, kGroupsPerBlock = 1;
    template <bool kSecond>
    static void pair(const uint8_t *row, int64_t p, __m512i &codes, __m512 &factors) {
        const uint8_t *first = row + 2 * p * 34, *second = first + 34;
        codes = join(load256(first + 2), kSecond ? load256(second + 2) : _mm256_setzero_si256());
        factors = join(half(first), kSecond ? half(second) : 0.0f);
    }
};

// Q4_0 (formats.md §1.6): an f16 d then 16 bytes, element i in the low nibble of byte i and
// element 16 + i in the high one, each nibble - 8; 18 bytes.
struct Q4_0 {
    static constexpr int64_t kPairBytes = 36, kGroupsPerBlock = 1;
    static __m256i codes_of(const uint8_t *block) {
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 2));
        const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(15));
        const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(15));
        return _mm256_sub_epi8(_mm256_set_m128i(high, low), _mm256_set1_epi8(8));
    }
    template <bool kSecond>
    static void pair(const uint8_t *row, int64_t p, __m512i &codes, __m512 &factors) {
        const uint8_t *first = row + 2 * p * 18, *second = first + 18;
        codes = join(codes_of(first), kSecond ? codes_of(second) : _mm256_setzero_si256());
        factors = join(half(first), kSecond ? half(second) : 0.0f);
    }
};

// Q6_K (formats.md §1.6): 256 elements in 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits),
// 16 int8 sub-block scales, f16 d. Within each 128-element half h, element 32k + l (k < 4) has
// low bits from ql[64h + l + 32 (k & 1)] (low nibble for k < 2, high for k >= 2) and high bits
// (qh[32h + l] >> 2k) & 3; code - 32. Groups 2j and 2j + 1 of a half are its k = 2j, 2j + 1:
// the 64 ql bytes at 64h are exactly their low nibbles (j = 0) or high nibbles (j = 1).
struct Q6_K {
    static constexpr int64_t kPairBytes = 210 / 4, kGroupsPerBlock = 8;
    template <bool kSecond>
    static void pair(const uint8_t *row, int64_t p, __m512i &codes, __m512 &factors) {
        static_assert(kSecond, "a Q6_K row has 8 groups per block, never an odd count");
        const uint8_t *block = row + (p / 4) * 210;
        const int64_t h = (p % 4) / 2, j = p % 2;  // half of the block, pair within the half
        const __m512i ql = _mm512_loadu_si512(block + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(load256(block + 128 + 32 * h));
        const __m512i low = _mm512_and_si512(j == 0 ? ql : _mm512_srli_epi16(ql, 4), _mm512_set1_epi8(15));
        // Group 2j takes qh >> 4j, group 2j + 1 qh >> (4j + 2): a per-half shift of 16-bit words.
        const __m512i shift = join(_mm256_set1_epi16(static_cast<int16_t>(4 * j)),
                                   _mm256_set1_epi16(static_cast<int16_t>(4 * j + 2)));
        const __m512i high = _mm512_and_si512(_mm512_srlv_epi16(qh, shift), _mm512_set1_epi8(3));
        codes = _mm512_sub_epi8(_mm512_or_si512(low, _mm512_slli_epi16(high, 4)), _mm512_set1_epi8(32));
        // Sub-block scales 4 * (2h + j) .. + 3, 16 elements (4 lanes) each.
        int32_t four_scales;
        std::memcpy(&four_scales, block + 192 + 4 * (2 * h + j), 4);
        const __m512i scales = _mm512_cvtepi8_epi32(_mm_cvtsi32_si128(four_scales));
        const __m512i spread = _mm512_permutexvar_epi32(
            _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0), scales);
        factors = _mm512_mul_ps(_mm512_cvtepi32_ps(spread), _mm512_set1_ps(half(block + 208)));
    }
};

constexpr int kTileTokens = 8;  // 16 (16 accumulators) measured no faster at 16 tokens
// Software prefetch distance along the row. One row at a time: a tile of two rows (two weight
// streams) ran at half the bandwidth with one token (kernel-bench, one core), and without the
// prefetch 8 tokens run 1.4x slower, the hardware prefetcher falling behind the long steps.
constexpr int64_t kPrefetchBytes = 2048;
constexpr int64_t kRowChunkBytes = 256 * 1024;  // rows that stay cached while every token tile passes

// One weight row times T tokens.
template <class Decoder, int T>
struct Tile {
    __m512 acc[T];

    template <bool kSecond>
    [[gnu::always_inline]] void step(const uint8_t *row, int64_t p, const HeadActivations *x) {
        const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
        _mm_prefetch(reinterpret_cast<const char *>(row + p * Decoder::kPairBytes + kPrefetchBytes), _MM_HINT_T0);
        __m512i w;
        __m512 factors;
        Decoder::template pair<kSecond>(row, p, w, factors);
        const __m512i start =
            _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, w));
        for (int t = 0; t < T; ++t) {
            const int8_t *q = x[t].codes + 64 * p;
            const __m512i u =
                _mm512_xor_si512(kSecond ? _mm512_loadu_si512(q) : _mm512_maskz_loadu_epi8(0xFFFFFFFFull, q), flip);
            const __m512 scales = join(x[t].scales[2 * p], kSecond ? x[t].scales[2 * p + 1] : 0.0f);
            const __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, u, w));
            acc[t] = _mm512_fmadd_ps(dot, _mm512_mul_ps(factors, scales), acc[t]);
        }
    }

    static float reduce(__m512 v) {
        const __m256 both = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(both), _mm256_extractf128_ps(both, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }

    static void run(const uint8_t *row, int64_t n_groups, const HeadActivations *x, float *out, int64_t out_stride) {
        Tile tile;
        for (int t = 0; t < T; ++t) tile.acc[t] = _mm512_setzero_ps();
        int64_t p = 0;
        for (; 2 * p + 1 < n_groups; ++p) tile.template step<true>(row, p, x);
        if constexpr (Decoder::kGroupsPerBlock % 2 == 1) {  // only then can a row end in an odd group
            if (2 * p < n_groups) tile.template step<false>(row, p, x);
        }
        for (int t = 0; t < T; ++t) out[t * out_stride] = reduce(tile.acc[t]);
    }
};

using TileFunction = void (*)(const uint8_t *, int64_t, const HeadActivations *, float *, int64_t);

// kTiles<Decoder>[tokens - 1], tokens up to kTileTokens.
template <class Decoder, int... Ts>
constexpr std::array<TileFunction, sizeof...(Ts)> tiles(std::integer_sequence<int, Ts...>) {
    return {Tile<Decoder, Ts + 1>::run...};
}
template <class Decoder>
constexpr auto kTiles = tiles<Decoder>(std::make_integer_sequence<int, kTileTokens>{});

template <class Decoder>
void gemm_rows(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols, const HeadActivations *x,
               int64_t n_tokens, float *out, int64_t out_stride) {
    const int64_t n_groups = n_cols / kHeadActBlock;
    int64_t chunk = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
    if (chunk < 1) chunk = 1;
    for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
        const int64_t r_end = n_rows - r0 < chunk ? n_rows : r0 + chunk;
        for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
            const int64_t tokens = n_tokens - t < kTileTokens ? n_tokens - t : kTileTokens;
            for (int64_t r = r0; r < r_end; ++r) {
                kTiles<Decoder>[tokens - 1](weights + r * row_bytes, n_groups, x + t, out + t * out_stride + r,
                                            out_stride);
            }
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
        default: return;  // the backend sends only these three types here
    }
}

}  // namespace bitnet::avx512
