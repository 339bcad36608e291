// Scalar block codecs: one block of each stored type to floats and back. These are the
// specification the SIMD kernels are tested against, so every function here is written for
// clarity, one block at a time, with the layout facts from formats.md §1.6 (ggml block layouts,
// ggml-quants.c reference functions) and §2.1-2.3 (BitNet I2_S). Multi-byte fields are
// little-endian and are assembled byte by byte, so the code does not depend on the host byte
// order. tensor_type.cpp puts each codec into its type's row of the traits table.
#include "tensor/block_codecs.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/half.h"

namespace bitnet::block_codec {
// ---------------------------------------------------------------------------------------------
// Little-endian field access
// ---------------------------------------------------------------------------------------------

static uint16_t load_u16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

static void store_u16(uint8_t *p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v & 0xff);
    p[1] = static_cast<uint8_t>(v >> 8);
}

static float load_f32(const uint8_t *p) {
    uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                    (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
    return bits_to_float(bits);
}

static void store_f32(uint8_t *p, float v) {
    uint32_t bits = float_to_bits(v);
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(bits >> (8 * i));
}

// ggml_half: IEEE-754 binary16 stored as u16 LE (formats.md §1.6).
static float load_f16(const uint8_t *p) { return half_to_float(load_u16(p)); }
static void store_f16(uint8_t *p, float v) { store_u16(p, float_to_half(v)); }

// ---------------------------------------------------------------------------------------------
// Block geometry (formats.md §1.6, §2.1) — must agree with the rows of tensor_type.cpp.
// ---------------------------------------------------------------------------------------------

constexpr int kQ8_0Elems = 32;    // 34 bytes: d f16 @0, qs int8[32] @2
constexpr int kQ4_0Elems = 32;    // 18 bytes: d f16 @0, qs u8[16] @2
constexpr int kQ6_KElems = 256;   // 210 bytes: ql[128] @0, qh[64] @128, scales int8[16] @192, d f16 @208
constexpr int kTQ1_0Elems = 256;  // 54 bytes: qs[48] @0, qh[4] @48, d f16 @52
constexpr int kTQ2_0Elems = 256;  // 66 bytes: qs[64] @0, d f16 @64
constexpr int kI2SElems = 128, kI2SBytes = 32;  // 4 groups of 32 lanes, 2 bits each

// x * id where id = 1/d overflowed to infinity: only for blocks whose largest value is a float
// subnormal (ggml's reference has undefined behaviour there). The product is then +-inf, or NaN for
// x == 0; these helpers give the value the finite limit would (0 for NaN) instead of casting
// a non-finite float to int. For every other input they are exactly the ggml expression.
static float finite_or_zero(float v, float lo, float hi) {
    if (std::isnan(v)) return 0.0f;
    return std::clamp(v, lo, hi);
}

// ---------------------------------------------------------------------------------------------
// Plain floats: F32 (little-endian), F16 (IEEE binary16, round to nearest even), BF16 (the top 16
// bits of an f32, rounded to nearest even), one element per "block".
// ---------------------------------------------------------------------------------------------

void decode_f32(const uint8_t *block, float *y) { y[0] = load_f32(block); }
void encode_f32(const float *x, uint8_t *block) { store_f32(block, x[0]); }
void decode_f16(const uint8_t *block, float *y) { y[0] = load_f16(block); }
void encode_f16(const float *x, uint8_t *block) { store_f16(block, x[0]); }
void decode_bf16(const uint8_t *block, float *y) { y[0] = bf16_to_float(load_u16(block)); }
void encode_bf16(const float *x, uint8_t *block) { store_u16(block, float_to_bf16(x[0])); }

float load_tensor_scale(const uint8_t *p) { return load_f32(p); }
void store_tensor_scale(uint8_t *p, float scale) { store_f32(p, scale); }

// ---------------------------------------------------------------------------------------------
// Q8_0 (ggml dequantize_row_q8_0 / quantize_row_q8_0_ref): x[j] = qs[j] * d.
// ---------------------------------------------------------------------------------------------

void decode_q8_0(const uint8_t *block, float *y) {
    const float d = load_f16(block + 0);
    for (int j = 0; j < kQ8_0Elems; ++j) {
        const int8_t q = static_cast<int8_t>(block[2 + j]);
        y[j] = static_cast<float>(q) * d;
    }
}

// ggml rule: amax = max|x|, d = amax / 127, id = d ? 1/d : 0 (the unrounded f32 d), the f16 of d is
// stored, q = roundf(x * id) (ties away from zero).
void encode_q8_0(const float *x, uint8_t *block) {
    float amax = 0.0f;
    for (int j = 0; j < kQ8_0Elems; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;  // (1 << 7) - 1
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(block + 0, d);
    for (int j = 0; j < kQ8_0Elems; ++j) {
        const float q = std::round(finite_or_zero(x[j] * id, -127.0f, 127.0f));  // |x*id| <= 127 anyway
        block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
}

// ---------------------------------------------------------------------------------------------
// Q4_0 (ggml dequantize_row_q4_0 / quantize_row_q4_0_ref): for j in 0..15
//   x[j] = ((qs[j] & 0x0F) - 8) * d,  x[j+16] = ((qs[j] >> 4) - 8) * d.
// ---------------------------------------------------------------------------------------------

void decode_q4_0(const uint8_t *block, float *y) {
    const float d = load_f16(block + 0);
    for (int j = 0; j < kQ4_0Elems / 2; ++j) {
        const uint8_t byte = block[2 + j];
        y[j] = static_cast<float>((byte & 0x0F) - 8) * d;       // low nibble: first half
        y[j + 16] = static_cast<float>((byte >> 4) - 8) * d;    // high nibble: second half
    }
}

// ggml rule: `max` is the element of largest magnitude WITH its sign (first one wins ties),
// d = max / -8 (so that element encodes as nibble 0 = -8 exactly), id = d ? 1/d : 0,
// nibble = min(15, (int8)(x*id + 8.5)) — truncation of x*id + 8.5, i.e. round half up.
void encode_q4_0(const float *x, uint8_t *block) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < kQ4_0Elems; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(block + 0, d);
    auto nibble = [id](float v) {
        // v*id lies in [-8, 8], so v*id + 8.5 lies in [0.5, 16.5]: the truncation fits in int.
        const int truncated = static_cast<int>(finite_or_zero(v * id, -8.0f, 8.0f) + 8.5f);
        return static_cast<uint8_t>(std::min(15, truncated));
    };
    for (int j = 0; j < kQ4_0Elems / 2; ++j) {
        block[2 + j] = static_cast<uint8_t>(nibble(x[j]) | (nibble(x[j + 16]) << 4));
    }
}

// ---------------------------------------------------------------------------------------------
// Q6_K (ggml dequantize_row_q6_K). 256 elements in two halves of 128; in half h (ql += 64h,
// qh += 32h, sc += 8h), for l in 0..31 with is = l/16:
//   q1 = (ql[l]    & 0xF | ((qh[l] >> 0) & 3) << 4) - 32 -> y[l]    = d * sc[is+0] * q1
//   q2 = (ql[l+32] & 0xF | ((qh[l] >> 2) & 3) << 4) - 32 -> y[l+32] = d * sc[is+2] * q2
//   q3 = (ql[l]    >> 4  | ((qh[l] >> 4) & 3) << 4) - 32 -> y[l+64] = d * sc[is+4] * q3
//   q4 = (ql[l+32] >> 4  | ((qh[l] >> 6) & 3) << 4) - 32 -> y[l+96] = d * sc[is+6] * q4
// Element e of the block therefore uses scale sc[e/16]: 16 sub-blocks of 16 consecutive elements.
// ---------------------------------------------------------------------------------------------

void decode_q6_k(const uint8_t *block, float *y) {
    const float d = load_f16(block + 208);
    for (int h = 0; h < 2; ++h) {
        const uint8_t *ql = block + 64 * h;
        const uint8_t *qh = block + 128 + 32 * h;
        const int8_t *sc = reinterpret_cast<const int8_t *>(block + 192) + 8 * h;
        float *out = y + 128 * h;
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
            out[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
            out[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
            out[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
        }
    }
}

// Our own quantizer (ggml's make_qx_quants search is not needed for a correct encoding; any
// encoding decodes exactly by the decoder above). Per block:
//  1. For each 16-element sub-block i, take the element of largest magnitude with its sign, m_i,
//     and the wanted scale s_i = m_i / -32, so that element would be code -32 (the 6-bit range is
//     [-32, 31], asymmetric, so the extreme goes to the side with room — as ggml does).
//  2. d = max|s_i| / 127 stored as f16; if the f16 rounded below d it is bumped up one f16 step,
//     so that every |s_i| / d16 <= 127 and the int8 scales never overflow.
//  3. sc_i = sign(s_i) * ceil(|s_i| / d16) (clamped to [-127, 127]): rounding the magnitude UP makes
//     the effective scale e_i = d16 * sc_i at least |s_i|, so every |x / e_i| <= 32.
//  4. code = clamp(round(x / e_i), -32, 31), stored as code + 32 in 6 bits. Only a value of the
//     opposite sign to m_i and (almost) the same magnitude is clamped (31 instead of 32).
// Error per element: <= e_i / 2, or <= e_i for the clamped case, with e_i <= |s_i| + d16.
// A sub-block of zeros gets scale 0 and codes 0. Inputs must be finite and small enough that d
// fits in f16 (block absmax below 65504 * 127 * 32).
void encode_q6_k(const float *x, uint8_t *block) {
    float wanted[16];
    float max_wanted = 0.0f;
    for (int i = 0; i < 16; ++i) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < 16; ++j) {
            const float v = x[16 * i + j];
            if (amax < std::fabs(v)) {
                amax = std::fabs(v);
                max = v;
            }
        }
        wanted[i] = max / -32.0f;
        max_wanted = std::max(max_wanted, std::fabs(wanted[i]));
    }

    const float d = max_wanted / 127.0f;
    uint16_t d_bits = float_to_half(d);
    if (half_to_float(d_bits) < d) ++d_bits;  // d >= 0: the next f16 bit pattern is the next value up
    const float d16 = half_to_float(d_bits);
    store_u16(block + 208, d_bits);

    int8_t scales[16];
    for (int i = 0; i < 16; ++i) {
        int sc = 0;
        if (d16 > 0.0f && wanted[i] != 0.0f) {
            const double magnitude = std::ceil(static_cast<double>(std::fabs(wanted[i])) / d16);
            sc = static_cast<int>(std::min(127.0, magnitude));
            if (wanted[i] < 0.0f) sc = -sc;
        }
        scales[i] = static_cast<int8_t>(sc);
        block[192 + i] = static_cast<uint8_t>(scales[i]);
    }

    // 6-bit stored codes (code + 32, in 0..63) in element order, then packed per the decoder.
    uint8_t u[kQ6_KElems];
    for (int e = 0; e < kQ6_KElems; ++e) {
        const float effective = d16 * static_cast<float>(scales[e / 16]);
        int code = 0;
        if (effective != 0.0f) {
            // Clamping before rounding equals rounding then clamping to [-32, 31].
            code = static_cast<int>(std::lround(finite_or_zero(x[e] / effective, -32.0f, 31.0f)));
        }
        u[e] = static_cast<uint8_t>(code + 32);
    }

    std::memset(block, 0, 192);  // ql and qh are assembled with |=
    for (int h = 0; h < 2; ++h) {
        uint8_t *ql = block + 64 * h;
        uint8_t *qh = block + 128 + 32 * h;
        const uint8_t *uh = u + 128 * h;
        for (int l = 0; l < 32; ++l) {
            // y[l] and y[l+64] share ql[l] (low, high nibble); y[l+32] and y[l+96] share ql[l+32].
            ql[l] = static_cast<uint8_t>((uh[l] & 0xF) | ((uh[l + 64] & 0xF) << 4));
            ql[l + 32] = static_cast<uint8_t>((uh[l + 32] & 0xF) | ((uh[l + 96] & 0xF) << 4));
            // The top two bits of y[l + 32k] go to bits [2k+1:2k] of qh[l].
            qh[l] = static_cast<uint8_t>((uh[l] >> 4) | ((uh[l + 32] >> 4) << 2) | ((uh[l + 64] >> 4) << 4) |
                                         ((uh[l + 96] >> 4) << 6));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ternary code for the TQ types (ggml quantize_row_tq*_ref): code = lroundf(x * id) + 1 with
// id = d ? 1/d : 0 and d = absmax of the block; -1, 0, +1 -> 0, 1, 2. For finite input |x*id| <= 1
// (up to float rounding, and lroundf(1.0000001) is still 1) so the code is in 0..2.
// ---------------------------------------------------------------------------------------------

static int ternary_code(float x, float id) {
    const long rounded = std::lround(finite_or_zero(x * id, -1.0f, 1.0f));
    return static_cast<int>(rounded) + 1;
}

static float block_absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
    return amax;
}

// ---------------------------------------------------------------------------------------------
// TQ2_0 (ggml dequantize_row_tq2_0 / quantize_row_tq2_0_ref): two 32-byte chunks c = 0, 1; in
// chunk c, byte m holds elements c*128 + l*32 + m (l = 0..3) in bits [2l+1:2l] — element m in the
// LOW bits (the reverse of I2_S). x = (code - 1) * d, d: f16 after the data at byte 64.
// ---------------------------------------------------------------------------------------------

void decode_tq2_0(const uint8_t *block, float *y) {
    const float d = load_f16(block + 64);
    for (int c = 0; c < 2; ++c) {
        for (int l = 0; l < 4; ++l) {
            for (int m = 0; m < 32; ++m) {
                const int code = (block[32 * c + m] >> (2 * l)) & 3;
                y[128 * c + 32 * l + m] = static_cast<float>(code - 1) * d;
            }
        }
    }
}

void encode_tq2_0(const float *x, uint8_t *block) {
    const float d = block_absmax(x, kTQ2_0Elems);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int c = 0; c < 2; ++c) {
        for (int m = 0; m < 32; ++m) {
            int byte = 0;
            for (int l = 0; l < 4; ++l) byte |= ternary_code(x[128 * c + 32 * l + m], id) << (2 * l);
            block[32 * c + m] = static_cast<uint8_t>(byte);
        }
    }
    store_f16(block + 64, d);
}

// ---------------------------------------------------------------------------------------------
// TQ1_0 (ggml dequantize_row_tq1_0 / quantize_row_tq1_0_ref). Five trits per byte, most
// significant first, stored as a base-3 fixed-point fraction: q = sum t_n * 3^(4-n) (0..242),
// byte = ceil(q * 256 / 243) = (q*256 + 242) / 243. Trit n is read back as
// t = ((u8)(byte * 3^n) * 3) >> 8 (the multiply wraps mod 256).
//   qs[0..31]:  byte m, trit n -> element 32n + m          (elements 0..159)
//   qs[32..47]: byte 32+m, trit n -> element 160 + 16n + m (elements 160..239)
//   qh[0..3]:   byte j, trit n (n = 0..3) -> element 240 + 4n + j (240..255); the quantizer packs
//               4 trits and multiplies by 3 once more so they take the top 4 trit positions.
// x = (t - 1) * d, d: f16 at byte 52.
// ---------------------------------------------------------------------------------------------

constexpr uint8_t kPow3[6] = {1, 3, 9, 27, 81, 243};

static int tq1_trit(uint8_t byte, int n) {
    const uint8_t shifted = static_cast<uint8_t>(byte * kPow3[n]);  // wraps mod 256
    return (static_cast<uint16_t>(shifted) * 3) >> 8;
}

static uint8_t tq1_pack(int q) { return static_cast<uint8_t>((q * 256 + 242) / 243); }

void decode_tq1_0(const uint8_t *block, float *y) {
    const float d = load_f16(block + 52);
    for (int n = 0; n < 5; ++n) {
        for (int m = 0; m < 32; ++m) y[32 * n + m] = static_cast<float>(tq1_trit(block[m], n) - 1) * d;
    }
    for (int n = 0; n < 5; ++n) {
        for (int m = 0; m < 16; ++m) {
            y[160 + 16 * n + m] = static_cast<float>(tq1_trit(block[32 + m], n) - 1) * d;
        }
    }
    for (int n = 0; n < 4; ++n) {
        for (int j = 0; j < 4; ++j) y[240 + 4 * n + j] = static_cast<float>(tq1_trit(block[48 + j], n) - 1) * d;
    }
}

void encode_tq1_0(const float *x, uint8_t *block) {
    const float d = block_absmax(x, kTQ1_0Elems);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int m = 0; m < 32; ++m) {
        int q = 0;
        for (int n = 0; n < 5; ++n) q = q * 3 + ternary_code(x[32 * n + m], id);
        block[m] = tq1_pack(q);
    }
    for (int m = 0; m < 16; ++m) {
        int q = 0;
        for (int n = 0; n < 5; ++n) q = q * 3 + ternary_code(x[160 + 16 * n + m], id);
        block[32 + m] = tq1_pack(q);
    }
    for (int j = 0; j < 4; ++j) {
        int q = 0;
        for (int n = 0; n < 4; ++n) q = q * 3 + ternary_code(x[240 + 4 * n + j], id);
        block[48 + j] = tq1_pack(q * 3);  // the fifth (least significant) trit is 0
    }
    store_f16(block + 52, d);
}

// ---------------------------------------------------------------------------------------------
// I2_S (formats.md §2.2): 128 elements -> 32 bytes; element p: group g = p/32, lane j = p%32,
// code = (byte[j] >> (6 - 2g)) & 3 (element with the lowest index in the HIGH bits).
// Value = (code - 1) * scale: 0 -> -1, 1 -> 0, 2 -> +1. Code 3 is never written by any quantizer;
// we decode it with the same formula, +2, because that is what bitnet.cpp computes (its dot product
// is sum(code * q) - sum(q) and the Metal dequantizer is field*coef - 1, §2.2, §2.4), so a SIMD
// kernel doing `code - 1` arithmetic agrees with this reference on every byte.
// ---------------------------------------------------------------------------------------------

static int i2s_code(const uint8_t *block, int p) { return (block[p % 32] >> (6 - 2 * (p / 32))) & 3; }

// The ternary value alone: the per-tensor scale is applied by the caller (ScaleRule::PerTensor).
void decode_i2s(const uint8_t *block, float *y) {
    for (int p = 0; p < kI2SElems; ++p) y[p] = static_cast<float>(i2s_code(block, p) - 1);
}

// BitNet quantize_i2_s: code 1 if |w| < 1e-6, else 2 if w * scale > 0, else 0. The sign alone picks
// the code (the tensor scale is max|w| >= |w| > 0 here), so no scale is needed to encode.
void encode_i2s(const float *x, uint8_t *block) {
    std::memset(block, 0, kI2SBytes);
    for (int p = 0; p < kI2SElems; ++p) {
        const double w = x[p];
        const int code = std::fabs(w) < 1e-6 ? 1 : (w > 0.0 ? 2 : 0);
        block[p % 32] = static_cast<uint8_t>(block[p % 32] | (code << (6 - 2 * (p / 32))));
    }
}

}  // namespace bitnet::block_codec

namespace bitnet {

int i2s_ternary_at(const uint8_t *packed, uint64_t index) {
    const uint8_t *block = packed + (index / block_codec::kI2SElems) * block_codec::kI2SBytes;
    return block_codec::i2s_code(block, static_cast<int>(index % block_codec::kI2SElems)) - 1;
}

}  // namespace bitnet
