// AVX-512 kernels (F, BW, VL, DQ, VNNI, VBMI). Integer work is exact and float steps follow the
// scalar specification operation for operation, so results equal kernels/scalar/ bit for bit.
//
// Ternary × int8 products use vpdpbusd on unsigned codes {0,1,2} against signed activations
// (formats.md §2.4: Σ (code - 1) q = Σ code q - Σ q). A 32-byte I2_S block (or TQ2_0 half block)
// is broadcast to both halves of a zmm and shifted per half, which lines its codes up with 64
// consecutive activations. With several tokens (prefill), a register tile of 4 rows × 4 tokens
// unpacks each weight block once for all four tokens and is bound by vpdpbusd throughput; with one
// token (decode), rows are read one after another as a single stream, bound by memory bandwidth.
//
// The gemm driver (token tiles, row chunks, decode streaming, activation sums, float steps) is
// kernels/ternary_gemm_impl.h. Two paths stay specific to this file because the driver's generic
// forms would cost speed: the I2_S one-token row dot (masking instead of shifting, below), and the
// TQ prefill register tile, whose float accumulator covers 4 rows × 4 tokens in one zmm; the
// driver calls both through its policy hooks (i2s_dots<1, 1>, tq_tile).
//
// Everything here has internal linkage: this file is compiled with AVX-512 flags, and an inline
// function shared with other files could be merged into a copy that uses AVX-512 instructions.

// GCC 12's AVX-512 headers read an uninitialised "undefined" vector inside _mm512_extracti64x4_epi64,
// _mm512_broadcast_i64x4 and friends and warn about it (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/ternary_gemm_impl.h"
#include "kernels/x86_float4_lanes.h"

namespace bitnet {
namespace {

using ternary_gemm::kI2SBlockBytes;
using ternary_gemm::kI2SBlockElements;
using ternary_gemm::kTQ1BlockBytes;
using ternary_gemm::kTQBlockBytes;
using ternary_gemm::kTQBlockElements;

// Register tile: rows × tokens accumulators (at most 16 of 32 zmm registers).
constexpr int kRegisterTileRows = 4;
using ternary_gemm::kTileTokens;

// acc + Σ of four u8 × s8 products per int32 lane (vpdpbusd). GCC 12 allocates registers badly
// around the intrinsic in a register tile (it copies every accumulator each step and spills some:
// the I2_S prefill tile ran at 60% of the speed of this form), so GCC gets the instruction directly.
BITNET_KERNEL_INLINE __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
#if defined(__GNUC__) && !defined(__clang__)
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "vm"(s8));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, u8, s8);
#endif
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

__mmask16 tail_mask16(int64_t count) { return static_cast<__mmask16>((1u << count) - 1u); }

void quantize_activations(const float *x, int64_t n, int64_t n_padded, int8_t *codes, float *scale, int32_t *sum) {
    const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    __m512 max_abs = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        // vmaxps returns its second operand when the first is NaN: NaN inputs are skipped, as in
        // the scalar loop.
        max_abs = _mm512_max_ps(_mm512_and_ps(_mm512_loadu_ps(x + i), abs_mask), max_abs);
    }
    if (i < n) {
        const __m512 v = _mm512_maskz_loadu_ps(tail_mask16(n - i), x + i);
        max_abs = _mm512_max_ps(_mm512_and_ps(v, abs_mask), max_abs);
    }
    const float m = _mm512_reduce_max_ps(max_abs);
    const float s = 127.0f / (m > 1e-5f ? m : 1e-5f);

    const __m512 vs = _mm512_set1_ps(s);
    const __m512i lo = _mm512_set1_epi32(-128);
    const __m512i hi = _mm512_set1_epi32(127);
    __m512i total = _mm512_setzero_si512();
    for (i = 0; i < n; i += 16) {
        const __mmask16 mask = n - i >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask16(n - i);
        const __m512 product = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), vs);
        // Round half to even; NaN becomes INT_MIN and then -128, like the scalar clamp.
        __m512i q = _mm512_cvt_roundps_epi32(product, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
        total = _mm512_add_epi32(total, q);
        _mm_mask_storeu_epi8(codes + i, mask, _mm512_cvtepi32_epi8(q));
    }
    if (n_padded > n) std::memset(codes + n, 0, static_cast<size_t>(n_padded - n));
    *scale = s;
    *sum = _mm512_reduce_add_epi32(total);
}

// ---------------------------------------------------------------------------------------------
// Horizontal sums of up to 16 int32 vectors into one vector whose lane k is Σ lanes of v[k].
// ---------------------------------------------------------------------------------------------

// Two steps of pairwise transposition: the result's 128-bit lane l holds, for v0..v3 in order,
// partial sums over lane l of each.
BITNET_KERNEL_INLINE __m512i transpose_add4(__m512i v0, __m512i v1, __m512i v2, __m512i v3) {
    const __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(v0, v1), _mm512_unpackhi_epi32(v0, v1));
    const __m512i b = _mm512_add_epi32(_mm512_unpacklo_epi32(v2, v3), _mm512_unpackhi_epi32(v2, v3));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

// Adds 128-bit lanes pairwise: [u0 l0+l1, u0 l2+l3, u1 l0+l1, u1 l2+l3].
BITNET_KERNEL_INLINE __m512i fold_lanes(__m512i u0, __m512i u1) {
    return _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
}

template <int N>
BITNET_KERNEL_INLINE __m512i reduce_lanes(const __m512i *v) {
    static_assert(N >= 1 && N <= 16);
    const __m512i zero = _mm512_setzero_si512();
    auto at = [&](int k) { return k < N ? v[k] : zero; };
    if constexpr (N <= 4) {
        const __m512i u = transpose_add4(at(0), at(1), at(2), at(3));
        const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
        const __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        return _mm512_castsi128_si512(q);
    } else if constexpr (N <= 8) {
        const __m512i w = fold_lanes(transpose_add4(at(0), at(1), at(2), at(3)),
                                     transpose_add4(at(4), at(5), at(6), at(7)));
        return fold_lanes(w, w);  // low 256 bits: v0..v7
    } else {
        const __m512i w0 = fold_lanes(transpose_add4(at(0), at(1), at(2), at(3)),
                                      transpose_add4(at(4), at(5), at(6), at(7)));
        const __m512i w1 = fold_lanes(transpose_add4(at(8), at(9), at(10), at(11)),
                                      transpose_add4(at(12), at(13), at(14), at(15)));
        return fold_lanes(w0, w1);
    }
}

// ---------------------------------------------------------------------------------------------
// Unpacking 32 bytes of 2-bit codes into two vectors of 64 codes each
// ---------------------------------------------------------------------------------------------

// Per-16-bit-lane shift counts: low half of the zmm by `low`, high half by `high`.
__m512i half_shifts(short low, short high) {
    return _mm512_inserti64x4(_mm512_set1_epi16(low), _mm256_set1_epi16(high), 1);
}

struct CodeUnpacker {
    __m512i first_shift;   // groups for activations [0, 64) of the 128
    __m512i second_shift;  // groups for activations [64, 128)
    __m512i mask = _mm512_set1_epi8(3);

    // 32 bytes -> codes for 128 consecutive activations (two zmm of 64).
    BITNET_KERNEL_INLINE void unpack(const uint8_t *bytes, __m512i &c0, __m512i &c1) const {
        const __m512i w = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(bytes)));
        c0 = _mm512_and_si512(_mm512_srlv_epi16(w, first_shift), mask);
        c1 = _mm512_and_si512(_mm512_srlv_epi16(w, second_shift), mask);
    }
};

// I2_S: element p of a block is at bits 7-2(p/32) .. 6-2(p/32): groups 0,1,2,3 at shifts 6,4,2,0.
CodeUnpacker i2s_unpacker() { return {half_shifts(6, 4), half_shifts(2, 0)}; }
// TQ2_0: in a half block, element 32l + m is at bits 2l+1 .. 2l of byte m: shifts 0,2,4,6.
CodeUnpacker tq2_unpacker() { return {half_shifts(0, 2), half_shifts(4, 6)}; }

// ---------------------------------------------------------------------------------------------
// I2_S
// ---------------------------------------------------------------------------------------------

// dots[r * T + t] = Σ code * q of row r and token t (and zeros up to 16 entries).
template <int R, int T>
BITNET_KERNEL_INLINE void i2s_tile_dots(const uint8_t *weights, size_t row_bytes, int64_t n_blocks,
                                        const int8_t *const *codes, int32_t *dots) {
    const CodeUnpacker unpacker = i2s_unpacker();
    __m512i acc[R * T];
#pragma GCC unroll 16
    for (int k = 0; k < R * T; ++k) acc[k] = _mm512_setzero_si512();

    // The next tile's rows, one tile ahead: rows read side by side are not a pattern the hardware
    // prefetcher follows, and with few tokens the tile would wait on DRAM.
    const uint8_t *next = weights + R * row_bytes;
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t offset = b * kI2SBlockElements;
        if ((b & 1) == 0) {
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) {
                _mm_prefetch(reinterpret_cast<const char *>(next + r * row_bytes + b * kI2SBlockBytes), _MM_HINT_T0);
            }
        }
        __m512i q0[T], q1[T];
#pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
            q0[t] = _mm512_loadu_si512(codes[t] + offset);
            q1[t] = _mm512_loadu_si512(codes[t] + offset + 64);
        }
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            __m512i c0, c1;
            unpacker.unpack(weights + r * row_bytes + b * kI2SBlockBytes, c0, c1);
#pragma GCC unroll 16
            for (int t = 0; t < T; ++t) {
                acc[r * T + t] = dpbusd(acc[r * T + t], c0, q0[t]);
                acc[r * T + t] = dpbusd(acc[r * T + t], c1, q1[t]);
            }
        }
    }
    _mm512_store_si512(dots, reduce_lanes<R * T>(acc));
}

// One row, one token (decode, where the driver reads rows one after another as a single sequential
// stream: a tile of rows read side by side defeats the hardware prefetcher, 3.8 GB/s from DRAM
// instead of 15+).
// Each 32-byte block is broadcast to both halves of a zmm and masked instead of shifted: the
// codes of groups 0 and 1 (first 64 activations) stay in place as code * 64 (low half, bits 7:6)
// and code * 16 (high half, bits 5:4), those of groups 2 and 3 as code * 4 and code * 1. Every
// int32 lane then sums multiples of one power of two, which an exact arithmetic shift per lane
// removes at the end of the row: two fewer instructions per block, the weights' bandwidth being
// what decode is bound by. Lane sums stay below 2^31 for rows of up to 2^21 codes
// (16384 blocks * 4 products * 192 * 128).
BITNET_KERNEL_INLINE int32_t i2s_dot_one_token(const uint8_t *row, int64_t n_blocks, const int8_t *q) {
    const __m512i first_mask = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(0xc0)), _mm256_set1_epi8(0x30), 1);
    const __m512i second_mask = _mm512_inserti64x4(_mm512_set1_epi8(0x0c), _mm256_set1_epi8(0x03), 1);
    const __m512i first_shift = _mm512_inserti64x4(_mm512_set1_epi32(6), _mm256_set1_epi32(4), 1);
    const __m512i second_shift = _mm512_inserti64x4(_mm512_set1_epi32(2), _mm256_set1_epi32(0), 1);
    auto broadcast = [](const uint8_t *block) {
        return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(block)));
    };
    __m512i first0 = _mm512_setzero_si512(), second0 = _mm512_setzero_si512();
    __m512i first1 = _mm512_setzero_si512(), second1 = _mm512_setzero_si512();
    int64_t b = 0;
    for (; b + 2 <= n_blocks; b += 2) {
        const __m512i w0 = broadcast(row + b * kI2SBlockBytes);
        const __m512i w1 = broadcast(row + (b + 1) * kI2SBlockBytes);
        const int8_t *a = q + b * kI2SBlockElements;
        first0 = dpbusd(first0, _mm512_and_si512(w0, first_mask), _mm512_loadu_si512(a));
        second0 = dpbusd(second0, _mm512_and_si512(w0, second_mask), _mm512_loadu_si512(a + 64));
        first1 = dpbusd(first1, _mm512_and_si512(w1, first_mask), _mm512_loadu_si512(a + 128));
        second1 = dpbusd(second1, _mm512_and_si512(w1, second_mask), _mm512_loadu_si512(a + 192));
    }
    if (b < n_blocks) {
        const __m512i w0 = broadcast(row + b * kI2SBlockBytes);
        const int8_t *a = q + b * kI2SBlockElements;
        first0 = dpbusd(first0, _mm512_and_si512(w0, first_mask), _mm512_loadu_si512(a));
        second0 = dpbusd(second0, _mm512_and_si512(w0, second_mask), _mm512_loadu_si512(a + 64));
    }
    const __m512i codes_times_q = _mm512_add_epi32(_mm512_srav_epi32(_mm512_add_epi32(first0, first1), first_shift),
                                                   _mm512_srav_epi32(_mm512_add_epi32(second0, second1), second_shift));
    return _mm512_reduce_add_epi32(codes_times_q);
}

// ---------------------------------------------------------------------------------------------
// TQ2_0 and TQ1_0: per-block f16 scales, so each block's integer dot is finished before the next
// block starts (acc = acc + d * (float)dot, in block order, exactly as the scalar kernel).
// ---------------------------------------------------------------------------------------------

// Lane k = 4r + t of a TQ tile's result vectors holds row r, token t.
__m512i lane_indices(int shift, int mask) {
    alignas(64) int32_t idx[16];
    for (int k = 0; k < 16; ++k) idx[k] = (k >> shift) & mask;
    return _mm512_load_si512(idx);
}

uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Decoders: one block of one row -> four vectors of 64 codes, for activations [0,64) .. [192,256).
struct TQ2Decoder {
    CodeUnpacker unpacker = tq2_unpacker();
    BITNET_KERNEL_INLINE void decode(const uint8_t *block, __m512i c[4]) const {
        unpacker.unpack(block, c[0], c[1]);
        unpacker.unpack(block + 32, c[2], c[3]);
    }
};

BITNET_KERNEL_INLINE __m512i load64(const void *p) { return _mm512_load_si512(p); }

// Bytes times 9, mod 256: x + 8x, with the 16-bit shift's spill into the next byte masked off.
BITNET_KERNEL_INLINE __m512i times9(__m512i x) {
    return _mm512_add_epi8(x, _mm512_and_si512(_mm512_slli_epi16(x, 3), _mm512_set1_epi8(static_cast<char>(0xf8))));
}

// Bytes times per-byte constants, mod 256: 16-bit multiplies for even and odd bytes, blended.
BITNET_KERNEL_INLINE __m512i mul_bytes(__m512i x, __m512i even_factors, __m512i odd_factors) {
    const __m512i even = _mm512_mullo_epi16(x, even_factors);
    const __m512i odd = _mm512_mullo_epi16(_mm512_and_si512(x, _mm512_set1_epi16(static_cast<short>(0xff00))), odd_factors);
    return _mm512_mask_blend_epi8(static_cast<__mmask64>(0xaaaaaaaaaaaaaaaaull), even, odd);
}

// Base-3 digit from a fixed-point byte: (p * 3) >> 8 = [p >= 86] + [p >= 171].
BITNET_KERNEL_INLINE __m512i top_trit(__m512i p) {
    const __mmask64 ge1 = _mm512_cmpge_epu8_mask(p, _mm512_set1_epi8(86));
    const __mmask64 ge2 = _mm512_cmpge_epu8_mask(p, _mm512_set1_epi8(static_cast<char>(171)));
    return _mm512_mask_mov_epi8(_mm512_maskz_mov_epi8(ge1, _mm512_set1_epi8(1)), ge2, _mm512_set1_epi8(2));
}

// TQ1_0 (formats.md §1.6): qs[0..31] trit n -> element 32n + m; qs[32..47] trit n -> 160 + 16n + m;
// qh[j] trit n -> 240 + 4n + j. Each output vector of 64 codes is its source bytes times 3^n
// (mod 256), whose top trit is the code. Vectors 0 and 1 (elements 0..127) come from qs[0..31]
// broadcast to both halves; vectors 2 and 3 gather their bytes with vpermb.
struct TQ1Tables {
    uint8_t select[2][64];  // source byte of each element of vectors 2 and 3
    uint16_t even[2][32];   // 3^n of the even / odd bytes of vectors 2 and 3, as 16-bit factors
    uint16_t odd[2][32];
};

constexpr TQ1Tables make_tq1_tables() {
    TQ1Tables tables{};
    for (int k = 0; k < 64; ++k) {
        int select2, power2, select3, power3;
        if (k < 32) {  // element 128 + k: qs[k] trit 4
            select2 = k;
            power2 = 81;
        } else {  // element 160 + (k - 32): qs[32 + m] trits 0, 1
            select2 = 32 + (k - 32) % 16;
            power2 = k < 48 ? 1 : 3;
        }
        if (k < 48) {  // element 192 + k: qs[32 + m] trits 2, 3, 4
            select3 = 32 + k % 16;
            power3 = k < 16 ? 9 : k < 32 ? 27 : 81;
        } else {  // element 240 + 4n + j: qh[j] trit n
            const int e = k - 48;
            select3 = 48 + e % 4;
            power3 = e < 4 ? 1 : e < 8 ? 3 : e < 12 ? 9 : 27;
        }
        tables.select[0][k] = static_cast<uint8_t>(select2);
        tables.select[1][k] = static_cast<uint8_t>(select3);
        (k % 2 == 0 ? tables.even : tables.odd)[0][k / 2] = static_cast<uint16_t>(power2);
        (k % 2 == 0 ? tables.even : tables.odd)[1][k / 2] = static_cast<uint16_t>(power3);
    }
    return tables;
}

alignas(64) constexpr TQ1Tables kTQ1Tables = make_tq1_tables();

struct TQ1Decoder {
    BITNET_KERNEL_INLINE void decode(const uint8_t *block, __m512i c[4]) const {
        const __mmask64 high_half = 0xffffffff00000000ull;
        // [qs * 1 | qs * 3] and [qs * 9 | qs * 27]: trits 0..3 of qs[0..31].
        const __m512i qs = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(block)));
        const __m512i p0 = _mm512_mask_add_epi8(qs, high_half, qs, _mm512_add_epi8(qs, qs));
        const __m512i p1 = times9(p0);
        const __m512i bytes = _mm512_maskz_loadu_epi8((1ull << kTQ1BlockBytes) - 1, block);
        const __m512i p2 = mul_bytes(_mm512_permutexvar_epi8(load64(kTQ1Tables.select[0]), bytes),
                                     load64(kTQ1Tables.even[0]), load64(kTQ1Tables.odd[0]));
        const __m512i p3 = mul_bytes(_mm512_permutexvar_epi8(load64(kTQ1Tables.select[1]), bytes),
                                     load64(kTQ1Tables.even[1]), load64(kTQ1Tables.odd[1]));
        c[0] = top_trit(p0);
        c[1] = top_trit(p1);
        c[2] = top_trit(p2);
        c[3] = top_trit(p3);
    }
};


template <TernaryLayout L>
using TQDecoder = std::conditional_t<L == TernaryLayout::TQ2, TQ2Decoder, TQ1Decoder>;

// Prefill register tile of R rows × T tokens over blocks [b0, b0 + n_blocks), with the driver's
// float steps (ternary_gemm_impl.h, tq_row) on 16 lanes at once: lane 4r + t holds row r, token t.
// It stays here rather than in the driver because its float accumulator is one zmm for the whole
// tile, and each row's four token dots are folded into it as soon as they are complete.
template <TernaryLayout L, int R, int T>
void tq_register_tile(const uint8_t *weights, size_t row_bytes, int64_t b0, int64_t n_blocks, const QuantizedRow *act,
             const int32_t *block_sums, bool first, bool last, float weight_scale, float *out, int64_t out_stride) {
    constexpr int64_t kBlockBytes = kTQBlockBytes<L>;
    const TQDecoder<L> decoder;
    const __m512i rows_of_lane = lane_indices(2, 3);
    const __m512i tokens_of_lane = lane_indices(0, 3);
    const __m512i zero = _mm512_setzero_si512();

    __m512 partial = _mm512_setzero_ps();
    if (!first) {
        alignas(64) float carried[16] = {};
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) carried[4 * r + t] = out[t * out_stride + r];
        partial = _mm512_load_ps(carried);
    }

    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t offset = (b0 + b) * kTQBlockElements;
        alignas(16) uint16_t scales[8] = {};
        // Each row's token dots are folded into one vector as soon as they are complete (lanes of
        // the row's 128-bit quarter: tokens 0..3), which keeps the whole tile in registers.
        __m512i rows[4] = {zero, zero, zero, zero};
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const uint8_t *block = weights + r * row_bytes + (b0 + b) * kBlockBytes;
            // The same block of the next tile's rows (see i2s_tile).
            _mm_prefetch(reinterpret_cast<const char *>(block + R * row_bytes), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(block + R * row_bytes + kBlockBytes - 1), _MM_HINT_T0);
            scales[r] = load_u16(block + kBlockBytes - 2);
            __m512i c[4];
            decoder.decode(block, c);
            __m512i token_dots[4] = {zero, zero, zero, zero};
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const int8_t *q = act[t].codes + offset;
                __m512i a = dpbusd(zero, c[0], _mm512_loadu_si512(q));
                a = dpbusd(a, c[1], _mm512_loadu_si512(q + 64));
                a = dpbusd(a, c[2], _mm512_loadu_si512(q + 128));
                token_dots[t] = dpbusd(a, c[3], _mm512_loadu_si512(q + 192));
            }
            rows[r] = transpose_add4(token_dots[0], token_dots[1], token_dots[2], token_dots[3]);
        }
        const __m512i code_dots = fold_lanes(fold_lanes(rows[0], rows[1]), fold_lanes(rows[2], rows[3]));
        const __m512i sums = _mm512_permutexvar_epi32(
            tokens_of_lane, _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i *>(block_sums + b * kTileTokens))));
        const __m512i dots = _mm512_sub_epi32(code_dots, sums);
        const __m512 d = _mm512_permutexvar_ps(
            rows_of_lane, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i *>(scales)))));
        partial = _mm512_add_ps(partial, _mm512_mul_ps(d, _mm512_cvtepi32_ps(dots)));
    }

    if (last) {
        alignas(64) float scale[16], ws[16];
        for (int k = 0; k < 16; ++k) {
            scale[k] = (k & 3) < T ? act[k & 3].scale : 1.0f;
            ws[k] = weight_scale;
        }
        partial = _mm512_mul_ps(_mm512_div_ps(partial, _mm512_load_ps(scale)), _mm512_load_ps(ws));
    }
    alignas(64) float result[16];
    _mm512_store_ps(result, partial);
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) out[t * out_stride + r] = result[4 * r + t];
}

// ---------------------------------------------------------------------------------------------
// The policy of kernels/ternary_gemm_impl.h
// ---------------------------------------------------------------------------------------------

// Register tiles of 4 rows × 4 tokens for prefill (i2s_tile_dots, tq_tile); in decode the I2_S row
// dot is the masked-shift stream of i2s_dot_one_token and TQ blocks go through the driver's
// one-token path. Codes 0..3 (activation sums subtracted by the driver).
struct Avx512Ternary : X86Float4Lanes {
    static constexpr int kTileRows = kRegisterTileRows;
    static constexpr bool kTQDotsCodes = true;
    using Wide = __m512i;

    static Wide wide_zero() { return _mm512_setzero_si512(); }
    BITNET_KERNEL_INLINE static Int4 sum_lanes4(Wide v0, Wide v1, Wide v2, Wide v3) {
        const __m512i v[4] = {v0, v1, v2, v3};
        return _mm512_castsi512_si128(reduce_lanes<4>(v));
    }
    static int32_t sum_lanes(Wide v) { return _mm512_reduce_add_epi32(v); }

    template <int R, int T>
    BITNET_KERNEL_INLINE static void i2s_dots(const uint8_t *weights, size_t row_bytes, int64_t n_blocks,
                                              const int8_t *const *codes, int32_t *dots) {
        if constexpr (R == 1 && T == 1) dots[0] = i2s_dot_one_token(weights, n_blocks, codes[0]);
        else i2s_tile_dots<R, T>(weights, row_bytes, n_blocks, codes, dots);
    }

    // Σ of the 256 codes of one TQ block.
    BITNET_KERNEL_INLINE static int32_t code_sum(const int8_t *q) {
        const __m512i ones = _mm512_set1_epi8(1);
        __m512i s = dpbusd(_mm512_setzero_si512(), ones, _mm512_loadu_si512(q));
        s = dpbusd(s, ones, _mm512_loadu_si512(q + 64));
        s = dpbusd(s, ones, _mm512_loadu_si512(q + 128));
        s = dpbusd(s, ones, _mm512_loadu_si512(q + 192));
        return _mm512_reduce_add_epi32(s);
    }

    template <TernaryLayout L, int T>
    BITNET_KERNEL_INLINE static void tq_block_dots(const uint8_t *block, const int8_t *const *q, Wide *dots) {
        __m512i c[4];
        TQDecoder<L>{}.decode(block, c);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            __m512i a = dpbusd(_mm512_setzero_si512(), c[0], _mm512_loadu_si512(q[t]));
            a = dpbusd(a, c[1], _mm512_loadu_si512(q[t] + 64));
            a = dpbusd(a, c[2], _mm512_loadu_si512(q[t] + 128));
            dots[t] = dpbusd(a, c[3], _mm512_loadu_si512(q[t] + 192));
        }
    }

    template <TernaryLayout L, int R, int T>
    static void tq_tile(const uint8_t *weights, size_t row_bytes, int64_t b0, int64_t n_blocks,
                        const QuantizedRow *act, const int32_t *block_sums, bool first, bool last,
                        float weight_scale, float *out, int64_t out_stride) {
        tq_register_tile<L, R, T>(weights, row_bytes, b0, n_blocks, act, block_sums, first, last, weight_scale, out,
                                  out_stride);
    }
};

using Gemm = ternary_gemm::TernaryGemm<Avx512Ternary>;

// ---------------------------------------------------------------------------------------------
// Float dot product
// ---------------------------------------------------------------------------------------------

// The fixed rule of KernelTable::dot_f32: lane k of `acc` is partial p[k] (element i into
// p[i % 8]); the products are exact in double, so the FMA equals the scalar multiply-add.
float dot_f32(const float *a, const float *b, int64_t n) {
    __m512d acc = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i)), _mm512_cvtps_pd(_mm256_loadu_ps(b + i)), acc);
    }
    alignas(64) double p[kDotF32Partials];
    _mm512_store_pd(p, acc);
    for (int k = 0; i < n; ++i, ++k) p[k] += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return static_cast<float>(((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7])));
}

const KernelTable kAvx512Table = {
    "avx512",
    quantize_activations,
    {Gemm::gemm_i2s, Gemm::gemm_tq<TernaryLayout::TQ2>, Gemm::gemm_tq<TernaryLayout::TQ1>},
    dot_f32,
    avx512::gemm_float,
    avx512::attention_scores,
    avx512::attention_values,
    avx512::rms_norm,
    avx512::gated_activation,
    avx512::softmax,
    avx512::gemm_head_a8,
};

}  // namespace

const KernelTable &avx512_kernels() { return kAvx512Table; }

}  // namespace bitnet
