// The ternary × int8 gemm driver (KernelTable::gemm_ternary, kernels.h), written once over an ISA
// policy P that each ISA file declares in its own anonymous namespace. Everything here is a member
// of TernaryGemm<P>, so each ISA gets its own instantiations with internal linkage: no code
// compiled with one ISA's flags can be merged into a caller built for another.
//
// The driver owns what is the same on every ISA:
//   - token tiling: each weight block is decoded once for a tile of up to kTileTokens tokens, the
//     tokens split into the fewest tiles, of sizes differing by at most one (small batches of
//     parallel sequences: 5 = 3 + 2 and 7 = 4 + 3, not 4 + 1 and 4 + 3 ... a one-token tile decodes
//     the weights for a quarter of a full tile's multiply-adds);
//   - row chunking: rows whose weights stay in cache while every token tile passes over them;
//   - the one-token (decode) path: rows one after another, a single sequential weight stream;
//   - for TQ2_0/TQ1_0 the per-block activation sums (when the policy dots raw codes 0..3 instead of
//     ternary values, Σ (code - 1) q = Σ code q - Σ q), the column chunks they are kept for, and
//     the float steps of kernels.h in order: acc = acc + d_b * (float)dot_b per block, carried
//     through `out` from one column chunk to the next, then acc / scale * weight_scale;
//   - for I2_S the final (float)(dot - sum) / scale * weight_scale.
// The policy holds only intrinsics: block decoding, integer block/row dots and lane sums.
//
// P provides:
//   kTileRows                 1, or 4 for a register tile of 4 rows × 4 tokens (then also tq_tile);
//   Wide                      int32 lanes whose sum is a dot product; wide_zero();
//   Int4, Float4              four int32 / float lanes (lane t: token t, or block b + t in decode);
//   sum_lanes4(Wide × 4)      Int4 whose lane k is Σ lanes of the k-th argument; sum_lanes(Wide);
//   to_float4(Int4), add4, mul4, div4, set4(float), and sub4(Int4, const int32_t *) when
//                             kTQDotsCodes;
//   load4 / store4            (16-byte aligned float arrays), half4(const uint16_t[8]) (the first
//                             four f16 values as floats), half(uint16_t);
//   i2s_dots<R, T>(weights, row_bytes, n_blocks, q, dots)
//                             dots[r * T + t] = Σ_i code_ri * q[t][i] over the R rows from `weights`
//                             (R <= kTileRows), n_blocks I2_S blocks each; exact int32; `dots` is
//                             64-byte aligned with room for kTileRows * kTileTokens entries;
//   kTQDotsCodes              true: tq_block_dots sums code * q (the driver subtracts activation
//                             sums, from code_sum(q): Σ of 256 codes); false: (code - 1) * q;
//   tq_block_dots<L, T>(block, q, dots)
//                             dots[t] (Wide) for one TQ block of layout L against q[t] (256 codes);
//   tq_tile<L, R, T>(...)     only when kTileRows > 1: a whole register tile of R rows × T tokens
//                             over a column chunk, same arguments and float steps as tq_row below
//                             (AVX-512 keeps its 16-lane float accumulator for the whole tile).
//
// Layout facts: formats.md §2.2 (I2_S: 128-element blocks of 32 bytes), §1.6 (TQ2_0: 256 elements
// in 66 bytes, TQ1_0: 256 in 54 bytes, each ending in its f16 scale d).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

// For the policies' block primitives: the vectors they pass (decoded codes, partial dots) must stay
// in registers, which GCC's inlining heuristics do not always see (an out-of-line TQ1_0 decoder,
// passing its eight vectors through memory, halved the speed of the AVX2 decode).
#if defined(__GNUC__)
#define BITNET_KERNEL_INLINE [[gnu::always_inline]] inline
#else
#define BITNET_KERNEL_INLINE inline
#endif

namespace bitnet::ternary_gemm {

inline constexpr int64_t kI2SBlockElements = 128;
inline constexpr int64_t kI2SBlockBytes = 32;
inline constexpr int64_t kTQBlockElements = 256;
inline constexpr int64_t kTQ2BlockBytes = 66;
inline constexpr int64_t kTQ1BlockBytes = 54;

template <TernaryLayout L>
inline constexpr int64_t kTQBlockBytes = L == TernaryLayout::TQ2 ? kTQ2BlockBytes : kTQ1BlockBytes;

inline constexpr int kTileTokens = 4;

// Tokens [first, first + count) of token tile `tile` when n_tokens are split into n_tiles =
// balanced_tile_count(n_tokens) tiles of at most kTileTokens, of sizes differing by at most one.
struct TokenTile {
    int64_t first, count;
};
inline int64_t balanced_tile_count(int64_t n_tokens) { return (n_tokens + kTileTokens - 1) / kTileTokens; }
inline TokenTile balanced_tile(int64_t n_tokens, int64_t n_tiles, int64_t tile) {
    const int64_t base = n_tokens / n_tiles, extra = n_tokens % n_tiles;
    return {tile * base + (tile < extra ? tile : extra), base + (tile < extra ? 1 : 0)};
}
// Rows whose weights stay in cache while every tile of tokens passes over them.
inline constexpr int64_t kRowChunkBytes = 192 * 1024;
// Column chunk (in TQ blocks) whose per-block activation sums are kept on the stack.
inline constexpr int64_t kTQMaxChunkBlocks = 256;

template <class P>
struct TernaryGemm {
    static_assert(P::kTileRows == 1 || P::kTileRows == 4, "tile tables below cover 1 or 4 rows");
    using Wide = typename P::Wide;
    using Int4 = typename P::Int4;
    using Float4 = typename P::Float4;

    static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

    // A whole number of row tiles, at least one.
    static int64_t row_chunk_rows(size_t row_bytes) {
        const int64_t rows = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
        return rows < P::kTileRows ? P::kTileRows : rows - rows % P::kTileRows;
    }

    static uint16_t load_u16(const uint8_t *p) {
        uint16_t v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }

    // -----------------------------------------------------------------------------------------
    // I2_S: one per-tensor scale, so a row's dot is one exact int32 (kernels.h).
    // -----------------------------------------------------------------------------------------

    template <int R, int T>
    static void i2s_tile(const uint8_t *weights, size_t row_bytes, int64_t n_blocks, const QuantizedRow *act,
                         float weight_scale, float *out, int64_t out_stride) {
        const int8_t *q[T];
        for (int t = 0; t < T; ++t) q[t] = act[t].codes;
        alignas(64) int32_t dots[P::kTileRows * kTileTokens];
        P::template i2s_dots<R, T>(weights, row_bytes, n_blocks, q, dots);
        for (int r = 0; r < R; ++r) {
            for (int t = 0; t < T; ++t) {
                const int32_t dot = dots[r * T + t] - act[t].sum;
                out[t * out_stride + r] = static_cast<float>(dot) / act[t].scale * weight_scale;
            }
        }
    }

    using I2STile = void (*)(const uint8_t *, size_t, int64_t, const QuantizedRow *, float, float *, int64_t);
    template <int R>
    static constexpr I2STile kI2STiles[kTileTokens] = {i2s_tile<R, 1>, i2s_tile<R, 2>, i2s_tile<R, 3>,
                                                       i2s_tile<R, 4>};

    static I2STile i2s_tile_of(int64_t rows, int64_t tokens) {
        if constexpr (P::kTileRows == 1) {
            return kI2STiles<1>[tokens - 1];
        } else {
            static constexpr const I2STile *kByRows[4] = {kI2STiles<1>, kI2STiles<2>, kI2STiles<3>, kI2STiles<4>};
            return kByRows[rows - 1][tokens - 1];
        }
    }

    static void gemm_i2s(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                         const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                         int64_t out_stride) {
        const int64_t n_blocks = n_cols / kI2SBlockElements;
        if (n_tokens == 1) {
            for (int64_t r = 0; r < n_rows; ++r) {
                i2s_tile<1, 1>(weights + r * row_bytes, row_bytes, n_blocks, activations, weight_scale, out + r,
                               out_stride);
            }
            return;
        }
        const int64_t chunk = row_chunk_rows(row_bytes);
        const int64_t n_tiles = balanced_tile_count(n_tokens);
        for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
            const int64_t r_end = min64(n_rows, r0 + chunk);
            for (int64_t tile = 0; tile < n_tiles; ++tile) {
                const TokenTile tt = balanced_tile(n_tokens, n_tiles, tile);
                const int64_t t = tt.first, tokens = tt.count;
                for (int64_t r = r0; r < r_end; r += P::kTileRows) {
                    const int64_t rows = min64(P::kTileRows, r_end - r);
                    i2s_tile_of(rows, tokens)(weights + r * row_bytes, row_bytes, n_blocks, activations + t,
                                              weight_scale, out + t * out_stride + r, out_stride);
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // TQ2_0 and TQ1_0: per-block f16 scales; acc = acc + d * (float)dot in block order.
    // -----------------------------------------------------------------------------------------

    // sums[b * stride + t] = Σ of token t's codes in block b0 + b, for b < n_blocks, t < tokens.
    static void block_activation_sums(const QuantizedRow *act, int64_t tokens, int64_t b0, int64_t n_blocks,
                                      int64_t stride, int32_t *sums) {
        for (int64_t t = 0; t < tokens; ++t) {
            for (int64_t b = 0; b < n_blocks; ++b) {
                sums[b * stride + t] = P::code_sum(act[t].codes + (b0 + b) * kTQBlockElements);
            }
        }
    }

    // One row, T tokens, blocks [b0, b0 + n_blocks): lane t of `partial` is token t's float sum,
    // carried in `out` between column chunks (`first`: none yet; `last`: finish it).
    template <TernaryLayout L, int T>
    static void tq_row(const uint8_t *row, size_t /*row_bytes*/, int64_t b0, int64_t n_blocks,
                       const QuantizedRow *act, const int32_t *block_sums, bool first, bool last, float weight_scale,
                       float *out, int64_t out_stride) {
        constexpr int64_t kBlockBytes = kTQBlockBytes<L>;
        Float4 partial = P::set4(0.0f);
        if (!first) {
            alignas(16) float carried[4] = {};
            for (int t = 0; t < T; ++t) carried[t] = out[t * out_stride];
            partial = P::load4(carried);
        }
        for (int64_t b = 0; b < n_blocks; ++b) {
            const uint8_t *block = row + (b0 + b) * kBlockBytes;
            const int8_t *q[T];
            for (int t = 0; t < T; ++t) q[t] = act[t].codes + (b0 + b) * kTQBlockElements;
            Wide dots[4] = {P::wide_zero(), P::wide_zero(), P::wide_zero(), P::wide_zero()};
            P::template tq_block_dots<L, T>(block, q, dots);
            Int4 block_dots = P::sum_lanes4(dots[0], dots[1], dots[2], dots[3]);
            if constexpr (P::kTQDotsCodes) block_dots = P::sub4(block_dots, block_sums + b * kTileTokens);
            const Float4 d = P::set4(P::half(load_u16(block + kBlockBytes - 2)));
            partial = P::add4(partial, P::mul4(d, P::to_float4(block_dots)));
        }
        if (last) {
            alignas(16) float scales[4] = {1.0f, 1.0f, 1.0f, 1.0f};
            for (int t = 0; t < T; ++t) scales[t] = act[t].scale;
            partial = P::mul4(P::div4(partial, P::load4(scales)), P::set4(weight_scale));
        }
        alignas(16) float result[4];
        P::store4(result, partial);
        for (int t = 0; t < T; ++t) out[t * out_stride] = result[t];
    }

    // Decode: four blocks per step whose dots are reduced together; the float accumulation still
    // adds one block at a time, in order.
    template <TernaryLayout L>
    static void tq_row_one_token(const uint8_t *row, int64_t b0, int64_t n_blocks, const QuantizedRow &act,
                                 const int32_t *block_sums, bool first, bool last, float weight_scale, float *out) {
        constexpr int64_t kBlockBytes = kTQBlockBytes<L>;
        float partial = first ? 0.0f : *out;
        int64_t b = 0;
        for (; b + 4 <= n_blocks; b += 4) {
            Wide dots[4];
            alignas(16) uint16_t scales[8] = {};
            for (int k = 0; k < 4; ++k) {
                const uint8_t *block = row + (b0 + b + k) * kBlockBytes;
                const int8_t *q[1] = {act.codes + (b0 + b + k) * kTQBlockElements};
                scales[k] = load_u16(block + kBlockBytes - 2);
                dots[k] = P::wide_zero();
                P::template tq_block_dots<L, 1>(block, q, &dots[k]);
            }
            Int4 block_dots = P::sum_lanes4(dots[0], dots[1], dots[2], dots[3]);
            if constexpr (P::kTQDotsCodes) block_dots = P::sub4(block_dots, block_sums + b);
            alignas(16) float terms[4];
            P::store4(terms, P::mul4(P::half4(scales), P::to_float4(block_dots)));
            partial = partial + terms[0];
            partial = partial + terms[1];
            partial = partial + terms[2];
            partial = partial + terms[3];
        }
        for (; b < n_blocks; ++b) {
            const uint8_t *block = row + (b0 + b) * kBlockBytes;
            const int8_t *q[1] = {act.codes + (b0 + b) * kTQBlockElements};
            Wide dot = P::wide_zero();
            P::template tq_block_dots<L, 1>(block, q, &dot);
            int32_t block_dot = P::sum_lanes(dot);
            if constexpr (P::kTQDotsCodes) block_dot -= block_sums[b];
            const float d = P::half(load_u16(block + kBlockBytes - 2));
            partial = partial + d * static_cast<float>(block_dot);
        }
        *out = last ? partial / act.scale * weight_scale : partial;
    }

    using TQTile = void (*)(const uint8_t *, size_t, int64_t, int64_t, const QuantizedRow *, const int32_t *, bool,
                            bool, float, float *, int64_t);
    // Single-row policies use tq_row; a multi-row register tile is the policy's own (tq_tile).
    template <TernaryLayout L, int R, int T>
    static constexpr TQTile tq_tile_function() {
        if constexpr (P::kTileRows == 1) return tq_row<L, T>;
        else return P::template tq_tile<L, R, T>;
    }
    template <TernaryLayout L, int R>
    static constexpr TQTile kTQTiles[kTileTokens] = {tq_tile_function<L, R, 1>(), tq_tile_function<L, R, 2>(),
                                                     tq_tile_function<L, R, 3>(), tq_tile_function<L, R, 4>()};

    template <TernaryLayout L>
    static TQTile tq_tile_of(int64_t rows, int64_t tokens) {
        if constexpr (P::kTileRows == 1) {
            return kTQTiles<L, 1>[tokens - 1];
        } else {
            static constexpr const TQTile *kByRows[4] = {kTQTiles<L, 1>, kTQTiles<L, 2>, kTQTiles<L, 3>,
                                                         kTQTiles<L, 4>};
            return kByRows[rows - 1][tokens - 1];
        }
    }

    template <TernaryLayout L>
    static void gemm_tq(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                        const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                        int64_t out_stride) {
        const int64_t n_blocks = n_cols / kTQBlockElements;
        alignas(64) int32_t block_sums[P::kTQDotsCodes ? kTQMaxChunkBlocks * kTileTokens : 1];
        if (n_tokens == 1) {
            for (int64_t b0 = 0; b0 == 0 || b0 < n_blocks; b0 += kTQMaxChunkBlocks) {  // once for 0 blocks too
                const int64_t blocks = min64(kTQMaxChunkBlocks, n_blocks - b0);
                if constexpr (P::kTQDotsCodes) block_activation_sums(activations, 1, b0, blocks, 1, block_sums);
                const bool first = b0 == 0, last = b0 + blocks == n_blocks;
                for (int64_t r = 0; r < n_rows; ++r) {
                    tq_row_one_token<L>(weights + r * row_bytes, b0, blocks, activations[0], block_sums, first, last,
                                        weight_scale, out + r);
                }
            }
            return;
        }
        const int64_t chunk = row_chunk_rows(row_bytes);
        const int64_t n_tiles = balanced_tile_count(n_tokens);
        for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
            const int64_t r_end = min64(n_rows, r0 + chunk);
            for (int64_t tile = 0; tile < n_tiles; ++tile) {
                const TokenTile tt = balanced_tile(n_tokens, n_tiles, tile);
                const int64_t t = tt.first, tokens = tt.count;
                for (int64_t b0 = 0; b0 == 0 || b0 < n_blocks; b0 += kTQMaxChunkBlocks) {  // once for 0 blocks too
                    const int64_t blocks = min64(kTQMaxChunkBlocks, n_blocks - b0);
                    if constexpr (P::kTQDotsCodes) {
                        // Tokens past the tile's end read sums of 0 (their lanes are dropped).
                        std::memset(block_sums, 0, static_cast<size_t>(blocks * kTileTokens) * sizeof block_sums[0]);
                        block_activation_sums(activations + t, tokens, b0, blocks, kTileTokens, block_sums);
                    }
                    const bool first = b0 == 0, last = b0 + blocks == n_blocks;
                    for (int64_t r = r0; r < r_end; r += P::kTileRows) {
                        const int64_t rows = min64(P::kTileRows, r_end - r);
                        tq_tile_of<L>(rows, tokens)(weights + r * row_bytes, row_bytes, b0, blocks, activations + t,
                                                    block_sums, first, last, weight_scale, out + t * out_stride + r,
                                                    out_stride);
                    }
                }
            }
        }
    }
};

}  // namespace bitnet::ternary_gemm
