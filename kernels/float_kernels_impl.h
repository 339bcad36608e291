// The float kernels (gemm_float, attention, rms_norm, gated_activation, softmax) written once over
// a vector type, for each ISA file (AVX2, AVX-512, NEON) to instantiate with its own vectors (V below). Weights
// are decoded exactly as tensor/quantize.cpp decodes them (formats.md §1.6), V::kLanes values at a
// time, and multiplied into float accumulators; only the summation order differs from the scalar
// kernels.
//
// Everything here is a template on V, which each ISA file declares in its own namespace: the
// instantiations are distinct functions per ISA, so none compiled with one ISA's flags can be
// merged into a caller compiled for another (the reason the ISA files share no inline code).
//
// V provides: Float and Int vector types; kLanes; kRegisters (vector registers); zero(), set1(float), fmadd(a, b, acc),
// mul(a, b), add(a, b), reduce(Float) -> float; loads of kLanes elements: load_f32, load_f16,
// load_bf16 (to Float), load_u8 and load_i8 (to Int, one int32 lane per byte); integer
// and_(Int, int), shr(Int, int), shl(Int, int), or_(Int, Int), sub(Int, int), to_float(Int);
// store_f32(float *, Float); max(a, b); for single values half(uint16_t) -> float, sqrt(float) and
// exp(float). Optionally transpose(Float *v): a kLanes x kLanes block in place (else a generic one);
// and, for a vector softmax, sub_f(a, b), round(v) (to nearest), times_power_of_two(p, n) (p * 2^n
// for integral n) and zero_below(v, x, limit) (0 where x < limit, else v).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace bitnet::float_kernels {

// Tokens per register tile. 8-token tiles (2 rows x 8 tokens on AVX-512) were tried for the plain
// rows and ran at 0.65x two 4-token tiles: 8 tokens' activations (80 KB at 2560 columns) no longer
// stay in L1, and each pair of rows re-reads them from L2.
inline constexpr int kMaxTileTokens = 4;
// Rows whose weights stay in cache while every tile of tokens passes over them.
inline constexpr int64_t kRowChunkBytes = 256 * 1024;

template <class V>
float load_half(const uint8_t *p) {
    uint16_t bits;
    std::memcpy(&bits, p, sizeof bits);
    return V::half(bits);
}

template <class V>
float load_bf16(const uint8_t *p) {
    uint16_t bits;
    std::memcpy(&bits, p, sizeof bits);
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

// Decoders: a block of a row -> `use(offset, weights)` for each kLanes-wide run of its elements,
// `offset` being the run's first element within the block. The plain rows (F32, F16, BF16) call
// `use` in ascending offset order: their multi-token tile (tile_rows_shared_tokens) decodes a
// block first and replays its runs in ascending order, and the one-token tile must feed each
// accumulator in that same order for a token's sum not to depend on its batch. Every block holds an even number of
// runs and the decoders' loops unroll fully, so `offset` is a compile-time constant that picks one
// accumulator of a pair (an accumulator array indexed at run time would live on the stack).

// F32, F16, BF16: plain values, two vectors per "block"; rows whose length is not a multiple of
// that end with a scalar tail (Decoder::element).
enum class PlainType { F32, F16, BF16 };

template <class V, PlainType kType>
struct PlainRows {
    static constexpr int64_t kElementBytes = kType == PlainType::F32 ? 4 : 2;
    static constexpr int64_t kBlockElements = 2 * V::kLanes;
    static constexpr int64_t kBlockBytes = kElementBytes * kBlockElements;
    static typename V::Float vector(const uint8_t *p) {
        if constexpr (kType == PlainType::F32) return V::load_f32(p);
        else if constexpr (kType == PlainType::F16) return V::load_f16(p);
        else return V::load_bf16(p);
    }
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        use(0, vector(block));
        use(V::kLanes, vector(block + kElementBytes * V::kLanes));
    }
    static float element(const uint8_t *row, int64_t i) {
        const uint8_t *p = row + kElementBytes * i;
        if constexpr (kType == PlainType::F16) return load_half<V>(p);
        else if constexpr (kType == PlainType::BF16) return load_bf16<V>(p);
        float value;
        std::memcpy(&value, p, sizeof value);
        return value;
    }
};

template <class V>
using F32Rows = PlainRows<V, PlainType::F32>;
template <class V>
using F16Rows = PlainRows<V, PlainType::F16>;
template <class V>
using BF16Rows = PlainRows<V, PlainType::BF16>;

// Q8_0: 32 elements in 34 bytes, d f16 at 0, qs int8[32] at 2; x = q * d.
template <class V>
struct Q8_0Rows {
    static constexpr int64_t kBlockElements = 32;
    static constexpr int64_t kBlockBytes = 34;
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        const typename V::Float d = V::set1(load_half<V>(block));
#pragma GCC unroll 4
        for (int k = 0; k < 32; k += V::kLanes) use(k, V::mul(V::to_float(V::load_i8(block + 2 + k)), d));
    }
};

// Q4_0: 32 elements in 18 bytes, d f16 at 0, qs u8[16] at 2; x[j] = ((qs[j] & 15) - 8) * d,
// x[j + 16] = ((qs[j] >> 4) - 8) * d.
template <class V>
struct Q4_0Rows {
    static constexpr int64_t kBlockElements = 32;
    static constexpr int64_t kBlockBytes = 18;
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        const typename V::Float d = V::set1(load_half<V>(block));
#pragma GCC unroll 2
        for (int k = 0; k < 16; k += V::kLanes) {
            const typename V::Int bytes = V::load_u8(block + 2 + k);
            use(k, V::mul(V::to_float(V::sub(V::and_(bytes, 0x0F), 8)), d));
            use(16 + k, V::mul(V::to_float(V::sub(V::shr(bytes, 4), 8)), d));
        }
    }
};

// Q6_K: 256 elements in 210 bytes: ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, d f16 at
// 208. Half h (128 elements) uses ql + 64h, qh + 32h, scales + 8h; for l in 0..31, is = l / 16:
//   y[l]      = d * sc[is + 0] * ((ql[l]      & 15 | (qh[l] >> 0 & 3) << 4) - 32)
//   y[l + 32] = d * sc[is + 2] * ((ql[l + 32] & 15 | (qh[l] >> 2 & 3) << 4) - 32)
//   y[l + 64] = d * sc[is + 4] * ((ql[l]      >> 4 | (qh[l] >> 4 & 3) << 4) - 32)
//   y[l + 96] = d * sc[is + 6] * ((ql[l + 32] >> 4 | (qh[l] >> 6 & 3) << 4) - 32)
// The factor d * sc is rounded to float first, as the reference decoder does.
template <class V>
struct Q6_KRows {
    static constexpr int64_t kBlockElements = 256;
    static constexpr int64_t kBlockBytes = 210;
    static constexpr bool kHeavy = true;  // its decoding needs registers of its own: one row per tile
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        const float d = load_half<V>(block + 208);
        const auto *scales = reinterpret_cast<const int8_t *>(block + 192);
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
            const uint8_t *ql = block + 64 * h;
            const uint8_t *qh = block + 128 + 32 * h;
#pragma GCC unroll 4
            for (int l = 0; l < 32; l += V::kLanes) {
                const int8_t *sc = scales + 8 * h + l / 16;
                const typename V::Int low = V::load_u8(ql + l);
                const typename V::Int high = V::load_u8(ql + 32 + l);
                const typename V::Int top = V::load_u8(qh + l);
                const auto code = [&](typename V::Int nibble, int top_shift) {
                    return V::to_float(V::sub(V::or_(nibble, V::shl(V::and_(V::shr(top, top_shift), 3), 4)), 32));
                };
                const int base = 128 * h + l;
                use(base, V::mul(code(V::and_(low, 0x0F), 0), V::set1(d * static_cast<float>(sc[0]))));
                use(base + 32, V::mul(code(V::and_(high, 0x0F), 2), V::set1(d * static_cast<float>(sc[2]))));
                use(base + 64, V::mul(code(V::shr(low, 4), 4), V::set1(d * static_cast<float>(sc[4]))));
                use(base + 96, V::mul(code(V::shr(high, 4), 6), V::set1(d * static_cast<float>(sc[6]))));
            }
        }
    }
};

// A register tile: R rows (from `weights`) times T tokens, one vector accumulator per row and
// token, fed block by block in column order and summed across lanes at the end; then the scalar
// tail of rows whose length is not a whole number of blocks. A token's sum for a row is thus the
// same whatever R and T are: the batch a token is decoded in (alone, or with other sequences, in a
// tile of any size) cannot change its logits (issue 17, batch invariance). The rows of a tile give
// the independent FMA chains that one token's single accumulator lacks, and each token's
// activations are loaded once per tile rather than once per row: with several tokens, re-reading
// them from L2 for every row was what bound the head (8 tokens ran at 17 G MAC/s on one core).
template <class V, class Decoder, int R, int T>
void tile_rows_tokens(const uint8_t *weights, size_t row_bytes, int64_t n_cols, const float *const *x, float *out,
                      int64_t out_stride) {
    const int64_t n_blocks = n_cols / Decoder::kBlockElements;
    // With one token the tile streams R rows from memory side by side, more streams than the
    // hardware prefetchers follow well: each row's bytes are asked for ahead of use.
    constexpr int64_t kPrefetchBytes = 512;
    typename V::Float acc[R][T];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = V::zero();
    }
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t first = b * Decoder::kBlockElements;
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            const uint8_t *block = weights + r * row_bytes + b * Decoder::kBlockBytes;
            if constexpr (T == 1 && R > 1) __builtin_prefetch(block + kPrefetchBytes);
            Decoder::decode(block, [&](int64_t offset, typename V::Float w) {
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    acc[r][t] = V::fmadd(w, V::load_f32(reinterpret_cast<const uint8_t *>(x[t] + first + offset)), acc[r][t]);
                }
            });
        }
    }
    for (int r = 0; r < R; ++r) {
        const uint8_t *row = weights + r * row_bytes;
        for (int t = 0; t < T; ++t) {
            float sum = V::reduce(acc[r][t]);
            if constexpr (requires { Decoder::element(row, 0); }) {
                for (int64_t i = n_blocks * Decoder::kBlockElements; i < n_cols; ++i) {
                    sum += Decoder::element(row, i) * x[t][i];
                }
            }
            out[t * out_stride + r] = sum;
        }
    }
}

// The multi-token register tile (T = 2..4 tokens, plain rows): the same sums as
// tile_rows_tokens - accumulator (r, t) is fed the runs of row r's blocks in ascending column
// order, so a token's sum is bit for bit what any other tile or batch gives it - but the loop is
// turned inside out: the R rows' block is decoded first, then for each run of kLanes columns the
// T tokens' activations are loaded once into registers and the R x T multiply-adds use them.
// That is R + T loads per R x T FMAs where tile_rows_tokens asks for one activation load per FMA
// (the compiler keeps some of them in registers, not all), and the rows are prefetched. Measured
// on the F16 lm_head, one core (kernel-bench, issue 17): 4 tokens about 1.2x, 8 tokens (two
// 4-token tiles over each row chunk) about the same as the per-row tile; with 4 tokens the tile is
// fed from memory, with 8 the second tile re-reads the chunk from L2 and the activations of 4
// tokens (40 KB at 2560 columns) share L1 with the streaming weights.
inline constexpr int64_t kSharedPrefetchBytes = 1024;

template <class V, class Decoder, int R, int T>
void tile_rows_shared_tokens(const uint8_t *weights, size_t row_bytes, int64_t n_cols, const float *const *x,
                             float *out, int64_t out_stride) {
    static_assert(Decoder::kBlockElements % V::kLanes == 0);
    constexpr int kRuns = static_cast<int>(Decoder::kBlockElements / V::kLanes);
    const int64_t n_blocks = n_cols / Decoder::kBlockElements;
    typename V::Float acc[R][T];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = V::zero();
    }
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t first = b * Decoder::kBlockElements;
        typename V::Float w[R][kRuns];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            // The first tile over a row chunk streams its rows from memory: asked for ahead of use
            // (later tiles find them in L2, where the prefetch costs next to nothing).
            __builtin_prefetch(weights + r * row_bytes + b * Decoder::kBlockBytes + kSharedPrefetchBytes);
            Decoder::decode(weights + r * row_bytes + b * Decoder::kBlockBytes,
                            [&](int64_t offset, typename V::Float v) { w[r][offset / V::kLanes] = v; });
        }
#pragma GCC unroll 8
        for (int k = 0; k < kRuns; ++k) {
            typename V::Float xs[T];
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                xs[t] = V::load_f32(reinterpret_cast<const uint8_t *>(x[t] + first + k * V::kLanes));
            }
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) acc[r][t] = V::fmadd(w[r][k], xs[t], acc[r][t]);
            }
        }
    }
    // The same finish as tile_rows_tokens (lane sum, then the scalar tail), which a token's sum
    // needs to be batch-invariant. Written out in both: a shared function taking the accumulators
    // by reference measured the one-token F16 head 17% slower (kernel-bench, 3 interleaved rounds).
    for (int r = 0; r < R; ++r) {
        const uint8_t *row = weights + r * row_bytes;
        for (int t = 0; t < T; ++t) {
            float sum = V::reduce(acc[r][t]);
            if constexpr (requires { Decoder::element(row, 0); }) {
                for (int64_t i = n_blocks * Decoder::kBlockElements; i < n_cols; ++i) {
                    sum += Decoder::element(row, i) * x[t][i];
                }
            }
            out[t * out_stride + r] = sum;
        }
    }
}

template <class Decoder>
constexpr bool heavy_decoder() {
    if constexpr (requires { Decoder::kHeavy; }) return Decoder::kHeavy;
    else return false;
}

// Rows per tile for T tokens: at least 8 accumulators (independent FMA chains) where the vector
// registers allow - 32 on AVX-512 and AArch64 NEON, 16 on AVX2 and 32-bit NEON, holding the
// accumulators, T activations and the decoded weights. A decoder that needs many registers of its
// own (Q6_K) takes two rows: eight Q6_K rows in flight spilled and ran at a third of the speed.
template <class V, class Decoder, int T>
constexpr int tile_rows() {
    if constexpr (heavy_decoder<Decoder>()) return 2;
    else if constexpr (T == 1) return 8;
    else if constexpr (V::kRegisters >= 32 || T == 2) return 4;
    else return 2;
}

template <class V, class Decoder>
constexpr bool is_plain_rows() {
    return requires { Decoder::element(nullptr, 0); } && Decoder::kBlockElements == 2 * V::kLanes;
}

// Rows [0, n_rows) times T tokens (T <= kMaxTileTokens): whole tiles, then single rows.
template <class V, class Decoder, int T>
void rows_times_tokens(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                       const float *const *x, float *out, int64_t out_stride) {
    constexpr int R = tile_rows<V, Decoder, T>();
    // The shared-activation tile for plain rows with 32 vector registers only: with Q8_0's decoding
    // (convert, scale) in the loop it ran at 0.6x the per-row tile on AVX-512, and on AVX2 (16
    // registers: 8 accumulators, 4 activations, 4 decoded runs) F16 ran at 0.92-0.94x with 4 and
    // 16 tokens (kernel-bench lm_head_*, issue 17).
    constexpr bool kShared = T >= 2 && is_plain_rows<V, Decoder>() && V::kRegisters >= 32;
    int64_t r = 0;
    for (; r + R <= n_rows; r += R) {
        if constexpr (kShared) {
            tile_rows_shared_tokens<V, Decoder, R, T>(weights + r * row_bytes, row_bytes, n_cols, x, out + r, out_stride);
        } else {
            tile_rows_tokens<V, Decoder, R, T>(weights + r * row_bytes, row_bytes, n_cols, x, out + r, out_stride);
        }
    }
    for (; r < n_rows; ++r) {
        tile_rows_tokens<V, Decoder, 1, T>(weights + r * row_bytes, row_bytes, n_cols, x, out + r, out_stride);
    }
}

template <class V, class Decoder>
void gemm_rows(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols, const float *const *x,
               int64_t n_tokens, float *out, int64_t out_stride) {
    using Tile = void (*)(const uint8_t *, size_t, int64_t, int64_t, const float *const *, float *, int64_t);
    static constexpr Tile kTiles[kMaxTileTokens] = {
        rows_times_tokens<V, Decoder, 1>, rows_times_tokens<V, Decoder, 2>, rows_times_tokens<V, Decoder, 3>,
        rows_times_tokens<V, Decoder, 4>};
    // Rows in chunks that stay cached while every group of tokens passes over them: the weights are
    // read from memory once however many tokens there are.
    // Several tokens (the lm_head of parallel sequences) thus share one pass over the head's bytes.
    // The tokens go in the fewest tiles, of sizes differing by at most one (5 = 3 + 2: a one-token
    // tile runs its FMAs at a quarter of the rate). Each token's sum is the same in any tile size
    // (its own accumulators, in block order), so the split does not change a result.
    int64_t chunk = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
    if (chunk < 1) chunk = 1;
    const int64_t n_tiles = (n_tokens + kMaxTileTokens - 1) / kMaxTileTokens;
    for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
        const int64_t rows = n_rows - r0 < chunk ? n_rows - r0 : chunk;
        for (int64_t tile = 0; tile < n_tiles; ++tile) {
            const int64_t base = n_tokens / n_tiles, extra = n_tokens % n_tiles;
            const int64_t t = tile * base + (tile < extra ? tile : extra);
            const int64_t tokens = base + (tile < extra ? 1 : 0);
            kTiles[tokens - 1](weights + r0 * row_bytes, row_bytes, rows, n_cols, x + t, out + t * out_stride + r0,
                               out_stride);
        }
    }
}

template <class V>
void gemm_float(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                const float *const *x, int64_t n_tokens, float *out, int64_t out_stride) {
    switch (type) {
        case TensorType::F32: return gemm_rows<V, F32Rows<V>>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::F16: return gemm_rows<V, F16Rows<V>>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::BF16: return gemm_rows<V, BF16Rows<V>>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::Q8_0: return gemm_rows<V, Q8_0Rows<V>>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::Q4_0: return gemm_rows<V, Q4_0Rows<V>>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        case TensorType::Q6_K: return gemm_rows<V, Q6_KRows<V>>(weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
        default: return;  // ternary types never reach the float path (the backend packs them)
    }
}

// Attention. Key and value rows are converted to f32 into a stack buffer a group of cells at a
// time, so a row is converted once however many queries read it. Values: kCellGroup cells of at
// most kDimChunk values (32 KiB; the values kernel reloads its accumulators once per group, so
// larger groups spend less of its time there).
inline constexpr int32_t kDimChunk = 256;
inline constexpr int32_t kCellGroup = 32;

// Values [first, first + count) of the KV rows of cells[0..n) as f32 rows of kDimChunk floats;
// rows n..group-1 are zero (group <= kCellGroup).
template <class V>
void convert_kv_rows(const uint8_t *base, size_t cell_stride, bool f16, const int32_t *cells, int32_t n, int32_t group,
                     int32_t first, int32_t count, float (*rows)[kDimChunk]) {
    const int32_t vector_end = count - count % V::kLanes;
    for (int32_t c = 0; c < group; ++c) {
        float *out = rows[c];
        if (c >= n) {
            for (int32_t i = 0; i < count; ++i) out[i] = 0.0f;
            continue;
        }
        const uint8_t *row = base + static_cast<size_t>(cells[c]) * cell_stride;
        int32_t i = 0;
        if (f16) {
            for (; i < vector_end; i += V::kLanes) V::store_f32(out + i, V::load_f16(row + 2 * static_cast<size_t>(first + i)));
            for (; i < count; ++i) out[i] = load_half<V>(row + 2 * static_cast<size_t>(first + i));
        } else {
            for (; i < vector_end; i += V::kLanes) V::store_f32(out + i, V::load_f32(row + 4 * static_cast<size_t>(first + i)));
            for (; i < count; ++i) std::memcpy(out + i, row + 4 * static_cast<size_t>(first + i), sizeof(float));
        }
    }
}

// Scores as a small GEMM with no sums across lanes. A tile of kKeyTileVectors * kLanes cells has
// its keys transposed (converted to f32) into kt[dimension][cell] once; then for a tile of Q
// queries each step over a dimension i broadcasts query[i] and multiply-adds it into Q x C
// accumulator vectors over the cells (8 x 2 on 32 registers: 2 loads and 8 broadcasts per 16
// FMAs), and the accumulators are the scores, stored as vectors. The transposition is paid once
// per cell for all the call's queries (32 in a 2B-4T prefill item).
//
// Batch invariance (issue 17 item 6): every score is the same operation sequence - one float
// accumulator from 0, fma(query[i], key[i], acc) for i = 0, 1, ... head_dim - 1 in order (head
// sizes past kKeyDimChunk continue from the stored partial score, an exact float), then * scale -
// in whichever lane, tile or tail the query and the cell land, so it does not depend on the other
// queries or cells in the call.
inline constexpr int32_t kKeyDimChunk = 128;
template <class V>
inline constexpr int kKeyTileQueries = V::kRegisters >= 32 ? 8 : 4;  // 16 registers: 8 + 2 + 1 live
inline constexpr int kKeyTileVectors = 2;

// v[d] lane c <- v[c] lane d for a kLanes x kLanes block (the ISA's shuffles where it has them).
template <class V>
void transpose_block(typename V::Float *v) {
    if constexpr (requires { V::transpose(v); }) {
        V::transpose(v);
    } else {
        alignas(64) float block[V::kLanes][V::kLanes];
        for (int c = 0; c < V::kLanes; ++c) V::store_f32(block[c], v[c]);
        alignas(64) float column[V::kLanes];
        for (int d = 0; d < V::kLanes; ++d) {
            for (int c = 0; c < V::kLanes; ++c) column[c] = block[c][d];
            v[d] = V::load_f32(reinterpret_cast<const uint8_t *>(column));
        }
    }
}

// kt[i * tile + c] = key(cells[c])[first + i] for i < count and c < vectors * kLanes, 0 for c >= n.
template <class V>
void transpose_keys(const uint8_t *keys, size_t cell_stride, bool f16, const int32_t *cells, int32_t n,
                    int32_t vectors, int32_t first, int32_t count, int32_t tile, float *kt) {
    const int32_t vector_end = count - count % V::kLanes;
    for (int32_t b = 0; b < vectors; ++b) {
        const uint8_t *row[V::kLanes];
        for (int c = 0; c < V::kLanes; ++c) {
            const int32_t cell = b * V::kLanes + c;
            row[c] = cell < n ? keys + static_cast<size_t>(cells[cell]) * cell_stride : nullptr;
        }
        float *out = kt + b * V::kLanes;
        for (int32_t i = 0; i < vector_end; i += V::kLanes) {
            typename V::Float v[V::kLanes];
            for (int c = 0; c < V::kLanes; ++c) {
                if (row[c] == nullptr) v[c] = V::zero();
                else if (f16) v[c] = V::load_f16(row[c] + 2 * static_cast<size_t>(first + i));
                else v[c] = V::load_f32(row[c] + 4 * static_cast<size_t>(first + i));
            }
            transpose_block<V>(v);
            for (int d = 0; d < V::kLanes; ++d) V::store_f32(out + (i + d) * tile, v[d]);
        }
        for (int32_t i = vector_end; i < count; ++i) {
            for (int c = 0; c < V::kLanes; ++c) {
                float value = 0.0f;
                if (row[c] != nullptr && f16) value = load_half<V>(row[c] + 2 * static_cast<size_t>(first + i));
                else if (row[c] != nullptr) std::memcpy(&value, row[c] + 4 * static_cast<size_t>(first + i), sizeof value);
                out[i * tile + c] = value;
            }
        }
    }
}

// Scores of Q queries x the first n of C * kLanes cells over dimensions [first, first + count):
// started from 0 (first == 0) or the stored partial scores, and scaled after the last chunk.
template <class V, int Q, int C>
void key_tile(const float *const *queries, const float *kt, int32_t tile, int32_t first, int32_t count, bool last,
              float scale, int32_t n, float *scores, int64_t score_stride) {
    typename V::Float acc[Q][C];
    alignas(64) float partial[C * V::kLanes];
    for (int q = 0; q < Q; ++q) {
        for (int c = 0; c < C; ++c) acc[q][c] = V::zero();
        if (first == 0) continue;
        const float *in = scores + q * score_stride;
        if (n == C * V::kLanes) {
            for (int c = 0; c < C; ++c) acc[q][c] = V::load_f32(reinterpret_cast<const uint8_t *>(in + c * V::kLanes));
        } else {
            for (int32_t c = 0; c < C * V::kLanes; ++c) partial[c] = c < n ? in[c] : 0.0f;
            for (int c = 0; c < C; ++c) acc[q][c] = V::load_f32(reinterpret_cast<const uint8_t *>(partial + c * V::kLanes));
        }
    }
    for (int32_t i = 0; i < count; ++i) {
        typename V::Float key[C];
        for (int c = 0; c < C; ++c) key[c] = V::load_f32(reinterpret_cast<const uint8_t *>(kt + i * tile + c * V::kLanes));
        for (int q = 0; q < Q; ++q) {
            const typename V::Float x = V::set1(queries[q][first + i]);
            for (int c = 0; c < C; ++c) acc[q][c] = V::fmadd(x, key[c], acc[q][c]);
        }
    }
    const typename V::Float factor = V::set1(scale);
    for (int q = 0; q < Q; ++q) {
        float *out = scores + q * score_stride;
        for (int c = 0; c < C; ++c) {
            if (last) acc[q][c] = V::mul(acc[q][c], factor);
            if (n == C * V::kLanes) V::store_f32(out + c * V::kLanes, acc[q][c]);
            else V::store_f32(partial + c * V::kLanes, acc[q][c]);
        }
        if (n != C * V::kLanes) {
            for (int32_t c = 0; c < n; ++c) out[c] = partial[c];
        }
    }
}

// key_tile with Q = min(n_queries, kKeyTileQueries) and C = vectors (<= kKeyTileVectors).
template <class V, int C, int Q = kKeyTileQueries<V>>
void key_tile_queries(int32_t n_queries, const float *const *queries, const float *kt, int32_t tile, int32_t first,
                      int32_t count, bool last, float scale, int32_t n, float *scores, int64_t score_stride) {
    if constexpr (Q > 1) {
        if (n_queries < Q) {
            return key_tile_queries<V, C, Q - 1>(n_queries, queries, kt, tile, first, count, last, scale, n, scores,
                                                 score_stride);
        }
    }
    key_tile<V, Q, C>(queries, kt, tile, first, count, last, scale, n, scores, score_stride);
}

template <class V, int C = kKeyTileVectors>
void key_tile_sized(int32_t vectors, int32_t n_queries, const float *const *queries, const float *kt, int32_t tile,
                    int32_t first, int32_t count, bool last, float scale, int32_t n, float *scores,
                    int64_t score_stride) {
    if constexpr (C > 1) {
        if (vectors < C) {
            return key_tile_sized<V, C - 1>(vectors, n_queries, queries, kt, tile, first, count, last, scale, n, scores,
                                            score_stride);
        }
    }
    key_tile_queries<V, C>(n_queries, queries, kt, tile, first, count, last, scale, n, scores, score_stride);
}

template <class V>
void attention_scores(const float *const *queries, int32_t n_queries, const uint8_t *keys, size_t cell_stride,
                      bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim, float scale, float *scores,
                      int64_t score_stride) {
    constexpr int32_t kTile = kKeyTileVectors * V::kLanes;
    constexpr int32_t kQ = kKeyTileQueries<V>;
    alignas(64) float kt[kKeyDimChunk * kTile];  // 16 KiB on AVX-512
    for (int32_t j0 = 0; j0 < n_cells; j0 += kTile) {
        const int32_t n = n_cells - j0 < kTile ? n_cells - j0 : kTile;
        const int32_t vectors = (n + V::kLanes - 1) / V::kLanes;
        for (int32_t first = 0; first < head_dim; first += kKeyDimChunk) {
            const int32_t count = head_dim - first < kKeyDimChunk ? head_dim - first : kKeyDimChunk;
            const bool last = first + count == head_dim;
            transpose_keys<V>(keys, cell_stride, f16, cells + j0, n, vectors, first, count, kTile, kt);
            // Every tile of queries passes over the transposed keys while they are in L1.
            for (int32_t q = 0; q < n_queries; q += kQ) {
                key_tile_sized<V>(vectors, n_queries - q, queries + q, kt, kTile, first, count, last, scale, n,
                                  scores + q * score_stride + j0, score_stride);
            }
        }
    }
}

// out[q][first + i] += Σ_c weights[q][c] * rows[c][i] for Q queries and S vectors of values, the
// Q * S accumulators kept in registers across the cells.
template <class V, int Q, int S>
void accumulate_values(const float *weights, int64_t weight_stride, int32_t n, const float (*rows)[kDimChunk],
                       int32_t offset, float *const *out, int32_t first) {
    typename V::Float acc[Q][S];
    for (int q = 0; q < Q; ++q) {
        for (int s = 0; s < S; ++s) acc[q][s] = V::load_f32(reinterpret_cast<const uint8_t *>(out[q] + first + offset + s * V::kLanes));
    }
    for (int32_t c = 0; c < n; ++c) {
        typename V::Float value[S];
        for (int s = 0; s < S; ++s) value[s] = V::load_f32(reinterpret_cast<const uint8_t *>(rows[c] + offset + s * V::kLanes));
        for (int q = 0; q < Q; ++q) {
            const typename V::Float w = V::set1(weights[q * weight_stride + c]);
            for (int s = 0; s < S; ++s) acc[q][s] = V::fmadd(w, value[s], acc[q][s]);
        }
    }
    for (int q = 0; q < Q; ++q) {
        for (int s = 0; s < S; ++s) V::store_f32(out[q] + first + offset + s * V::kLanes, acc[q][s]);
    }
}

template <class V>
void attention_values(const float *weights, int64_t weight_stride, int32_t n_queries, const uint8_t *values,
                      size_t cell_stride, bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim,
                      float *const *out) {
    constexpr int kQueries = 4, kSpan = 4;  // 16 accumulators
    alignas(64) float rows[kCellGroup][kDimChunk];
    for (int32_t j0 = 0; j0 < n_cells; j0 += kCellGroup) {
        const int32_t n = n_cells - j0 < kCellGroup ? n_cells - j0 : kCellGroup;
        for (int32_t first = 0; first < head_dim; first += kDimChunk) {
            const int32_t count = head_dim - first < kDimChunk ? head_dim - first : kDimChunk;
            convert_kv_rows<V>(values, cell_stride, f16, cells + j0, n, n, first, count, rows);
            const int32_t span_end = count - count % (kSpan * V::kLanes);
            const int32_t vector_end = count - count % V::kLanes;
            int32_t q = 0;
            for (; q + kQueries <= n_queries; q += kQueries) {
                for (int32_t offset = 0; offset < span_end; offset += kSpan * V::kLanes) {
                    accumulate_values<V, kQueries, kSpan>(weights + q * weight_stride + j0, weight_stride, n, rows,
                                                          offset, out + q, first);
                }
                for (int32_t offset = span_end; offset < vector_end; offset += V::kLanes) {
                    accumulate_values<V, kQueries, 1>(weights + q * weight_stride + j0, weight_stride, n, rows, offset,
                                                      out + q, first);
                }
            }
            for (; q < n_queries; ++q) {
                for (int32_t offset = 0; offset < span_end; offset += kSpan * V::kLanes) {
                    accumulate_values<V, 1, kSpan>(weights + q * weight_stride + j0, weight_stride, n, rows, offset,
                                                   out + q, first);
                }
                for (int32_t offset = span_end; offset < vector_end; offset += V::kLanes) {
                    accumulate_values<V, 1, 1>(weights + q * weight_stride + j0, weight_stride, n, rows, offset,
                                               out + q, first);
                }
            }
            for (q = 0; q < n_queries; ++q) {
                for (int32_t i = vector_end; i < count; ++i) {
                    float sum = out[q][first + i];
                    for (int32_t c = 0; c < n; ++c) sum += weights[q * weight_stride + j0 + c] * rows[c][i];
                    out[q][first + i] = sum;
                }
            }
        }
    }
}

template <class V>
void rms_norm(const float *x, const float *weight, int64_t n, float eps, float *y) {
    typename V::Float acc0 = V::zero(), acc1 = V::zero();
    int64_t i = 0;
    for (; i + 2 * V::kLanes <= n; i += 2 * V::kLanes) {
        const typename V::Float a = V::load_f32(reinterpret_cast<const uint8_t *>(x + i));
        const typename V::Float b = V::load_f32(reinterpret_cast<const uint8_t *>(x + i + V::kLanes));
        acc0 = V::fmadd(a, a, acc0);
        acc1 = V::fmadd(b, b, acc1);
    }
    float sum_squares = V::reduce(V::add(acc0, acc1));
    for (; i < n; ++i) sum_squares += x[i] * x[i];
    const float inv_rms = 1.0f / V::sqrt(sum_squares / static_cast<float>(n) + eps);
    const typename V::Float scale = V::set1(inv_rms);
    for (i = 0; i + V::kLanes <= n; i += V::kLanes) {
        const typename V::Float a = V::load_f32(reinterpret_cast<const uint8_t *>(x + i));
        const typename V::Float w = V::load_f32(reinterpret_cast<const uint8_t *>(weight + i));
        V::store_f32(y + i, V::mul(V::mul(a, scale), w));
    }
    for (; i < n; ++i) y[i] = x[i] * inv_rms * weight[i];
}

// e^x for x <= 0 (softmax arguments), V::kLanes at a time: x = n ln2 + r with |r| <= ln2 / 2,
// e^r by its Taylor polynomial to degree 7 (relative error below 2e-8 there), times 2^n put into
// the exponent. Below -87.3 (e^x under the smallest normal float, and -inf) the result is 0.
template <class V>
typename V::Float exp_nonpositive(typename V::Float x) {
    const typename V::Float n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
    // ln2 in two parts, so that n * ln2_high is exact and r keeps full precision.
    typename V::Float r = V::fmadd(n, V::set1(-0.693359375f), x);
    r = V::fmadd(n, V::set1(2.12194440e-4f), r);
    typename V::Float p = V::set1(1.0f / 5040.0f);
    p = V::fmadd(p, r, V::set1(1.0f / 720.0f));
    p = V::fmadd(p, r, V::set1(1.0f / 120.0f));
    p = V::fmadd(p, r, V::set1(1.0f / 24.0f));
    p = V::fmadd(p, r, V::set1(1.0f / 6.0f));
    p = V::fmadd(p, r, V::set1(0.5f));
    p = V::fmadd(p, r, V::set1(1.0f));
    p = V::fmadd(p, r, V::set1(1.0f));
    return V::zero_below(V::times_power_of_two(p, n), x, -87.3f);
}

// x[i] = e^(x[i] - max) with the sum; the scalar C library exp where V has no vector exp.
template <class V>
float softmax(float *x, int64_t n) {
    float max_value = x[0];
    for (int64_t i = 1; i < n; ++i) max_value = x[i] > max_value ? x[i] : max_value;
    int64_t i = 0;
    float total = 0.0f;
    if constexpr (requires(typename V::Float v) { V::round(v); V::times_power_of_two(v, v); V::zero_below(v, v, 0.0f); }) {
        const typename V::Float shift = V::set1(max_value);
        typename V::Float sum = V::zero();
        for (; i + V::kLanes <= n; i += V::kLanes) {
            const typename V::Float e =
                exp_nonpositive<V>(V::sub_f(V::load_f32(reinterpret_cast<const uint8_t *>(x + i)), shift));
            V::store_f32(x + i, e);
            sum = V::add(sum, e);
        }
        total = V::reduce(sum);
    }
    for (; i < n; ++i) {
        x[i] = V::exp(x[i] - max_value);
        total += x[i];
    }
    return total;
}

// relu(g)^2 * up in vectors; silu needs e^-g, which stays with the C library (one call per value:
// models with silu are the llama-style ones, where it is a small share of the time).
template <class V>
void gated_activation(float *gate, const float *up, int64_t n, bool relu_squared) {
    int64_t i = 0;
    if (relu_squared) {
        for (; i + V::kLanes <= n; i += V::kLanes) {
            const typename V::Float g = V::max(V::load_f32(reinterpret_cast<const uint8_t *>(gate + i)), V::zero());
            V::store_f32(gate + i, V::mul(V::mul(g, g), V::load_f32(reinterpret_cast<const uint8_t *>(up + i))));
        }
        for (; i < n; ++i) gate[i] = (gate[i] > 0.0f ? gate[i] * gate[i] : 0.0f) * up[i];
        return;
    }
    for (; i < n; ++i) gate[i] = gate[i] / (1.0f + V::exp(-gate[i])) * up[i];
}

}  // namespace bitnet::float_kernels

// Defines, in the enclosing namespace, the entry points kernels/float_kernels.inc declares as the
// templates above instantiated with the vector type V (one line per ISA file).
#define BITNET_DEFINE_FLOAT_KERNELS(V)                                                                                \
    void gemm_float(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,        \
                    const float *const *x, int64_t n_tokens, float *out, int64_t out_stride) {                        \
        ::bitnet::float_kernels::gemm_float<V>(type, weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride); \
    }                                                                                                                 \
    void attention_scores(const float *const *queries, int32_t n_queries, const uint8_t *keys, size_t cell_stride,    \
                          bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim, float scale,             \
                          float *scores, int64_t score_stride) {                                                      \
        ::bitnet::float_kernels::attention_scores<V>(queries, n_queries, keys, cell_stride, f16, cells, n_cells,      \
                                                     head_dim, scale, scores, score_stride);                          \
    }                                                                                                                 \
    void attention_values(const float *weights, int64_t weight_stride, int32_t n_queries, const uint8_t *values,      \
                          size_t cell_stride, bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim,      \
                          float *const *out) {                                                                        \
        ::bitnet::float_kernels::attention_values<V>(weights, weight_stride, n_queries, values, cell_stride, f16,     \
                                                     cells, n_cells, head_dim, out);                                  \
    }                                                                                                                 \
    void rms_norm(const float *x, const float *weight, int64_t n, float eps, float *y) {                              \
        ::bitnet::float_kernels::rms_norm<V>(x, weight, n, eps, y);                                                   \
    }                                                                                                                 \
    void gated_activation(float *gate, const float *up, int64_t n, bool relu_squared) {                               \
        ::bitnet::float_kernels::gated_activation<V>(gate, up, n, relu_squared);                                      \
    }                                                                                                                 \
    float softmax(float *x, int64_t n) { return ::bitnet::float_kernels::softmax<V>(x, n); }
