// The scalar kernels: the specification every ISA variant is tested against. Written for reading,
// one element at a time, with the layout facts of formats.md §1.6 (TQ1_0, TQ2_0) and §2.2-2.4
// (I2_S, int8 activations). Integer parts are exact int32; float steps happen in the order the
// comments state, which the SIMD variants reproduce operation for operation. They do not use the
// ISA variants' gemm driver (kernels/ternary_gemm_impl.h): no tiles or chunks, one token and row at
// a time, so that the specification reads as the formula in kernels.h.
#include <cmath>
#include <cstring>

#include "kernels/scalar/scalar_kernels.h"
#include "util/half.h"

namespace bitnet {
namespace {

// ---------------------------------------------------------------------------------------------
// Activations (formats.md §2.4)
// ---------------------------------------------------------------------------------------------

// Round half to even: nearbyint under the default rounding mode (the library never changes it).
// NaN codes as -128 and the clamp keeps everything else in int8; with scale = 127 / max|x| no
// finite product leaves [-127.5, 127.5] anyway.
int8_t quantize_one(float product) {
    const float rounded = std::nearbyint(product);
    if (!(rounded >= -128.0f)) return -128;  // also NaN
    if (rounded > 127.0f) return 127;
    return static_cast<int8_t>(rounded);
}

void quantize_activations(const float *x, int64_t n, int64_t n_padded, int8_t *codes, float *scale, int32_t *sum) {
    float max_abs = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > max_abs) max_abs = a;  // NaN compares false and is skipped
    }
    const float s = 127.0f / (max_abs > 1e-5f ? max_abs : 1e-5f);
    int32_t total = 0;
    for (int64_t i = 0; i < n; ++i) {
        codes[i] = quantize_one(x[i] * s);
        total += codes[i];
    }
    for (int64_t i = n; i < n_padded; ++i) codes[i] = 0;
    *scale = s;
    *sum = total;
}

// ---------------------------------------------------------------------------------------------
// I2_S (formats.md §2.2): 128-element blocks of 32 bytes; element p of a block sits in byte p % 32
// at bits (7 - 2*(p/32)) : (6 - 2*(p/32)); code 0, 1, 2 means -1, 0, +1 (ternary = code - 1).
// Σ (code - 1) * q = Σ code * q - Σ q, and Σ q is the activation row's sum (bitnet.cpp's trick).
// ---------------------------------------------------------------------------------------------

constexpr int64_t kI2SBlockElements = 128;
constexpr int64_t kI2SBlockBytes = 32;

// Element p = 32 * group + lane of a block: byte `lane`, bits (7 - 2 * group):(6 - 2 * group).
int32_t i2s_code_dot(const uint8_t *row, int64_t n_cols, const int8_t *q) {
    int32_t acc = 0;
    for (int64_t block = 0; block < n_cols / kI2SBlockElements; ++block) {
        const uint8_t *bytes = row + block * kI2SBlockBytes;
        const int8_t *qb = q + block * kI2SBlockElements;
        for (int group = 0; group < 4; ++group) {
            for (int lane = 0; lane < 32; ++lane) {
                const int code = (bytes[lane] >> (6 - 2 * group)) & 3;
                acc += code * qb[32 * group + lane];
            }
        }
    }
    return acc;
}

void gemm_i2s_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                 int64_t out_stride) {
    for (int64_t t = 0; t < n_tokens; ++t) {
        const QuantizedRow &act = activations[t];
        for (int64_t r = 0; r < n_rows; ++r) {
            const int32_t dot = i2s_code_dot(weights + r * row_bytes, n_cols, act.codes) - act.sum;
            out[t * out_stride + r] = static_cast<float>(dot) / act.scale * weight_scale;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TQ2_0 and TQ1_0 (formats.md §1.6): 256-element blocks, each with its own f16 scale d after the
// codes. Row result = (Σ over blocks, in block order, of d * (float)(Σ in block (code - 1) * q))
// / scale * weight_scale; the block sums are exact int32 (|Σ| <= 256 * 2 * 128 fits a float too).
// ---------------------------------------------------------------------------------------------

constexpr int64_t kTQBlockElements = 256;
constexpr int64_t kTQ2BlockBytes = 66;  // qs[64], d f16 @64
constexpr int64_t kTQ1BlockBytes = 54;  // qs[48], qh[4], d f16 @52

float load_f16(const uint8_t *p) { return half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

// TQ2_0: two 32-byte halves c; byte m of half c holds elements c*128 + 32*l + m at bits 2l+1:2l.
void decode_tq2_codes(const uint8_t *block, uint8_t *codes) {
    for (int c = 0; c < 2; ++c) {
        for (int l = 0; l < 4; ++l) {
            for (int m = 0; m < 32; ++m) codes[c * 128 + l * 32 + m] = (block[c * 32 + m] >> (2 * l)) & 3;
        }
    }
}

// TQ1_0: base-3 fixed point; trit n of a byte is ((uint8)(byte * 3^n) * 3) >> 8.
uint8_t trit(uint8_t byte, int n) {
    static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    const uint8_t p = static_cast<uint8_t>(byte * kPow3[n]);
    return static_cast<uint8_t>((p * 3) >> 8);
}

void decode_tq1_codes(const uint8_t *block, uint8_t *codes) {
    const uint8_t *qs = block;
    const uint8_t *qh = block + 48;
    for (int n = 0; n < 5; ++n) {
        for (int m = 0; m < 32; ++m) codes[32 * n + m] = trit(qs[m], n);        // elements 0..159
        for (int m = 0; m < 16; ++m) codes[160 + 16 * n + m] = trit(qs[32 + m], n);  // 160..239
    }
    for (int n = 0; n < 4; ++n) {
        for (int j = 0; j < 4; ++j) codes[240 + 4 * n + j] = trit(qh[j], n);  // 240..255
    }
}

template <int64_t kBlockBytes, void (*decode_codes)(const uint8_t *, uint8_t *)>
void gemm_tq_q8(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                int64_t out_stride) {
    uint8_t codes[kTQBlockElements];
    for (int64_t t = 0; t < n_tokens; ++t) {
        const QuantizedRow &act = activations[t];
        for (int64_t r = 0; r < n_rows; ++r) {
            float acc = 0.0f;
            for (int64_t block = 0; block < n_cols / kTQBlockElements; ++block) {
                const uint8_t *bytes = weights + r * row_bytes + block * kBlockBytes;
                const int8_t *q = act.codes + block * kTQBlockElements;
                decode_codes(bytes, codes);
                int32_t dot = 0;
                for (int i = 0; i < kTQBlockElements; ++i) dot += (codes[i] - 1) * q[i];
                const float d = load_f16(bytes + kBlockBytes - 2);
                acc = acc + d * static_cast<float>(dot);
            }
            out[t * out_stride + r] = acc / act.scale * weight_scale;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Float dot product: double partial sums in the fixed order of KernelTable::dot_f32.
// ---------------------------------------------------------------------------------------------

float dot_f32(const float *a, const float *b, int64_t n) {
    double p[kDotF32Partials] = {};
    for (int64_t i = 0; i < n; ++i) {
        p[i % kDotF32Partials] += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    }
    return static_cast<float>(((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7])));
}

const KernelTable kScalarTable = {
    "scalar",
    quantize_activations,
    {gemm_i2s_q8, gemm_tq_q8<kTQ2BlockBytes, decode_tq2_codes>, gemm_tq_q8<kTQ1BlockBytes, decode_tq1_codes>},
    dot_f32,
    scalar::gemm_float,
    scalar::attention_scores,
    scalar::attention_values,
    scalar::rms_norm,
    scalar::gated_activation,
    scalar::softmax,
    scalar::gemm_head_a8,
};

}  // namespace

const KernelTable &scalar_kernels() { return kScalarTable; }

}  // namespace bitnet
