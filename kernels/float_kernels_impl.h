// The float kernels (gemm_float, attention_scores, attention_values) written once over a vector
// type, for the AVX2 and AVX-512 files to instantiate with their own vectors (V below). Weights
// are decoded exactly as tensor/quantize.cpp decodes them (formats.md §1.6), V::kLanes values at a
// time, and multiplied into float accumulators; only the summation order differs from the scalar
// kernels.
//
// Everything here is a template on V, which each ISA file declares in its own namespace: the
// instantiations are distinct functions per ISA, so none compiled with one ISA's flags can be
// merged into a caller compiled for another (the reason the ISA files share no inline code).
//
// V provides: Float and Int vector types; kLanes; zero(), set1(float), fmadd(a, b, acc),
// mul(a, b), add(a, b), reduce(Float) -> float; loads of kLanes elements: load_f32, load_f16,
// load_bf16 (to Float), load_u8 and load_i8 (to Int, one int32 lane per byte); integer
// and_(Int, int), shr(Int, int), shl(Int, int), or_(Int, Int), sub(Int, int), to_float(Int);
// store_f32(float *, Float); max(a, b); for single values half(uint16_t) -> float, sqrt(float) and
// exp(float).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace bitnet::float_kernels {

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
// `offset` being the run's first element within the block. Every block holds an even number of
// runs and the decoders' loops unroll fully, so `offset` is a compile-time constant that picks one
// of two accumulators (an accumulator array indexed at run time would live on the stack).

// F32, F16, BF16: two vectors per "block"; rows whose length is not a multiple of that end with a
// scalar tail (Decoder::element).
template <class V>
struct F32Rows {
    static constexpr int64_t kBlockElements = 2 * V::kLanes;
    static constexpr int64_t kBlockBytes = 4 * kBlockElements;
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        use(0, V::load_f32(block));
        use(V::kLanes, V::load_f32(block + 4 * V::kLanes));
    }
    static float element(const uint8_t *row, int64_t i) {
        float value;
        std::memcpy(&value, row + 4 * i, sizeof value);
        return value;
    }
};

template <class V>
struct F16Rows {
    static constexpr int64_t kBlockElements = 2 * V::kLanes;
    static constexpr int64_t kBlockBytes = 2 * kBlockElements;
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        use(0, V::load_f16(block));
        use(V::kLanes, V::load_f16(block + 2 * V::kLanes));
    }
    static float element(const uint8_t *row, int64_t i) { return load_half<V>(row + 2 * i); }
};

template <class V>
struct BF16Rows {
    static constexpr int64_t kBlockElements = 2 * V::kLanes;
    static constexpr int64_t kBlockBytes = 2 * kBlockElements;
    template <class Use>
    static void decode(const uint8_t *block, Use &&use) {
        use(0, V::load_bf16(block));
        use(V::kLanes, V::load_bf16(block + 2 * V::kLanes));
    }
    static float element(const uint8_t *row, int64_t i) { return load_bf16<V>(row + 2 * i); }
};

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

// Rows [0, n_rows) times T tokens (T <= kMaxTileTokens). Each token keeps two accumulators, fed
// alternately, so one token still has two independent FMA chains.
template <class V, class Decoder, int T>
void rows_times_tokens(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                       const float *const *x, float *out, int64_t out_stride) {
    const int64_t n_blocks = n_cols / Decoder::kBlockElements;
    for (int64_t r = 0; r < n_rows; ++r) {
        const uint8_t *row = weights + r * row_bytes;
        typename V::Float acc[T][2];
        for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = V::zero();
        for (int64_t b = 0; b < n_blocks; ++b) {
            const int64_t first = b * Decoder::kBlockElements;
            Decoder::decode(row + b * Decoder::kBlockBytes, [&](int64_t offset, typename V::Float w) {
                const int parity = static_cast<int>(offset / V::kLanes) & 1;
                for (int t = 0; t < T; ++t) {
                    acc[t][parity] = V::fmadd(w, V::load_f32(reinterpret_cast<const uint8_t *>(x[t] + first + offset)),
                                              acc[t][parity]);
                }
            });
        }
        for (int t = 0; t < T; ++t) {
            float sum = V::reduce(V::add(acc[t][0], acc[t][1]));
            if constexpr (requires { Decoder::element(row, 0); }) {
                for (int64_t i = n_blocks * Decoder::kBlockElements; i < n_cols; ++i) {
                    sum += Decoder::element(row, i) * x[t][i];
                }
            }
            out[t * out_stride + r] = sum;
        }
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
    int64_t chunk = kRowChunkBytes / static_cast<int64_t>(row_bytes == 0 ? 1 : row_bytes);
    if (chunk < 1) chunk = 1;
    for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
        const int64_t rows = n_rows - r0 < chunk ? n_rows - r0 : chunk;
        for (int64_t t = 0; t < n_tokens; t += kMaxTileTokens) {
            const int64_t tokens = n_tokens - t < kMaxTileTokens ? n_tokens - t : kMaxTileTokens;
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

// KV cache rows: F16 or F32 elements.
template <class V>
typename V::Float load_kv(const uint8_t *row, int32_t i, bool f16) {
    return f16 ? V::load_f16(row + 2 * static_cast<size_t>(i)) : V::load_f32(row + 4 * static_cast<size_t>(i));
}

template <class V>
float kv_element(const uint8_t *row, int32_t i, bool f16) {
    return f16 ? load_half<V>(row + 2 * static_cast<size_t>(i)) : F32Rows<V>::element(row, i);
}

template <class V>
void attention_scores(const float *q, const uint8_t *keys, size_t cell_stride, bool f16, const int32_t *cells,
                      int32_t n_cells, int32_t head_dim, float scale, float *scores) {
    const int32_t vector_end = head_dim - head_dim % V::kLanes;
    for (int32_t j = 0; j < n_cells; ++j) {
        const uint8_t *key = keys + static_cast<size_t>(cells[j]) * cell_stride;
        typename V::Float acc0 = V::zero(), acc1 = V::zero();
        int32_t i = 0;
        for (; i + 2 * V::kLanes <= vector_end; i += 2 * V::kLanes) {
            acc0 = V::fmadd(V::load_f32(reinterpret_cast<const uint8_t *>(q + i)), load_kv<V>(key, i, f16), acc0);
            acc1 = V::fmadd(V::load_f32(reinterpret_cast<const uint8_t *>(q + i + V::kLanes)),
                            load_kv<V>(key, i + V::kLanes, f16), acc1);
        }
        if (i < vector_end) acc0 = V::fmadd(V::load_f32(reinterpret_cast<const uint8_t *>(q + i)), load_kv<V>(key, i, f16), acc0);
        float dot = V::reduce(V::add(acc0, acc1));
        for (i = vector_end; i < head_dim; ++i) dot += q[i] * kv_element<V>(key, i, f16);
        scores[j] = dot * scale;
    }
}

// out[first + i] += Σ_j weights[j] * value(cells[j])[first + i] for N vectors of values, kept in
// registers across all the cells.
template <class V, int N>
void accumulate_value_span(const float *weights, const uint8_t *values, size_t cell_stride, bool f16,
                           const int32_t *cells, int32_t n_cells, int32_t first, float *out) {
    typename V::Float acc[N];
    for (int v = 0; v < N; ++v) acc[v] = V::load_f32(reinterpret_cast<const uint8_t *>(out + first + v * V::kLanes));
    for (int32_t j = 0; j < n_cells; ++j) {
        const uint8_t *value = values + static_cast<size_t>(cells[j]) * cell_stride;
        const typename V::Float w = V::set1(weights[j]);
        for (int v = 0; v < N; ++v) acc[v] = V::fmadd(w, load_kv<V>(value, first + v * V::kLanes, f16), acc[v]);
    }
    for (int v = 0; v < N; ++v) V::store_f32(out + first + v * V::kLanes, acc[v]);
}

template <class V>
void attention_values(const float *weights, const uint8_t *values, size_t cell_stride, bool f16,
                      const int32_t *cells, int32_t n_cells, int32_t head_dim, float *out) {
    using Span = void (*)(const float *, const uint8_t *, size_t, bool, const int32_t *, int32_t, int32_t, float *);
    static constexpr Span kSpans[8] = {accumulate_value_span<V, 1>, accumulate_value_span<V, 2>,
                                       accumulate_value_span<V, 3>, accumulate_value_span<V, 4>,
                                       accumulate_value_span<V, 5>, accumulate_value_span<V, 6>,
                                       accumulate_value_span<V, 7>, accumulate_value_span<V, 8>};
    const int32_t vector_end = head_dim - head_dim % V::kLanes;
    for (int32_t first = 0; first < vector_end; first += 8 * V::kLanes) {
        const int32_t vectors = (vector_end - first) / V::kLanes;
        kSpans[(vectors < 8 ? vectors : 8) - 1](weights, values, cell_stride, f16, cells, n_cells, first, out);
    }
    for (int32_t i = vector_end; i < head_dim; ++i) {
        float sum = out[i];
        for (int32_t j = 0; j < n_cells; ++j) {
            sum += weights[j] * kv_element<V>(values + static_cast<size_t>(cells[j]) * cell_stride, i, f16);
        }
        out[i] = sum;
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
