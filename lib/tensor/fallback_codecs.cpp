// Scalar decoders of the types llama.cpp's quantizer falls back to when a row does not fit the
// requested type (e.g. a TQ2_0 model whose ffn_down rows are not a multiple of 256 gets Q4_0 or
// similar there). Decode-only: the engine reads these from files and runs them through the
// row-dequantizing float path; it never writes them.
//
// Layouts and rules: formats.md §1.6 ("Fallback types"), taken from the block structs of
// ggml-common.h (block_q4_1, block_q5_0, block_q5_1, block_q2_K, block_q3_K, block_q4_K,
// block_q5_K, block_iq4_nl) and the reference functions dequantize_row_* of ggml-quants.c.
// Multi-byte fields are little-endian and read byte by byte. As in ggml, the per-sub-block factor
// (d * scale, dmin * min) is rounded to float before it multiplies the code.
#include <cstdint>

#include "tensor/block_codecs.h"
#include "util/half.h"

namespace bitnet::block_codec {
namespace {

float f16_at(const uint8_t *p) { return half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

uint32_t u32_at(const uint8_t *p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
}

// The 16 values of IQ4_NL's non-linear 4-bit grid (ggml-common.h kvalues_iq4nl).
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Q4_K and Q5_K: eight 6-bit (scale, min) pairs packed in 12 bytes (ggml get_scale_min_k4).
// Pairs 0-3: low 6 bits of bytes j and j + 4; pairs 4-7: a nibble of byte j + 4 with the top two
// bits of byte j - 4 (scale) or byte j (min) above it.
void scale_min_k4(int j, const uint8_t *q, int *scale, int *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

}  // namespace

// Q4_1: 32 elements in 20 bytes: d f16 @0, m f16 @2, qs u8[16] @4. For j in 0..15:
// x[j] = (qs[j] & 0xF) * d + m, x[j + 16] = (qs[j] >> 4) * d + m.
void decode_q4_1(const uint8_t *block, float *y) {
    const float d = f16_at(block), m = f16_at(block + 2);
    for (int j = 0; j < 16; ++j) {
        y[j] = static_cast<float>(block[4 + j] & 0xF) * d + m;
        y[j + 16] = static_cast<float>(block[4 + j] >> 4) * d + m;
    }
}

// Q5_0: 32 elements in 22 bytes: d f16 @0, qh u32 @2 (bit j: the fifth bit of element j), qs
// u8[16] @6 (low nibbles elements 0-15, high nibbles 16-31). x = (5-bit code - 16) * d.
void decode_q5_0(const uint8_t *block, float *y) {
    const float d = f16_at(block);
    const uint32_t qh = u32_at(block + 2);
    for (int j = 0; j < 16; ++j) {
        const int low = (block[6 + j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
        const int high = (block[6 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
        y[j] = static_cast<float>(low - 16) * d;
        y[j + 16] = static_cast<float>(high - 16) * d;
    }
}

// Q5_1: 32 elements in 24 bytes: d f16 @0, m f16 @2, qh u32 @4, qs u8[16] @8; codes as Q5_0 but
// unsigned: x = code * d + m.
void decode_q5_1(const uint8_t *block, float *y) {
    const float d = f16_at(block), m = f16_at(block + 2);
    const uint32_t qh = u32_at(block + 4);
    for (int j = 0; j < 16; ++j) {
        const int low = (block[8 + j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
        const int high = (block[8 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
        y[j] = static_cast<float>(low) * d + m;
        y[j + 16] = static_cast<float>(high) * d + m;
    }
}

// Q2_K: 256 elements in 84 bytes: scales u8[16] @0 (low nibble scale, high nibble min), qs u8[64]
// @16, d f16 @80, dmin f16 @82. Two halves of 128 (qs + 32 per half); within a half, pass p = 0..3
// takes bits 2p+1..2p of qs[l] for elements 32p + l (l = 0..31). Sub-block s = element / 16 uses
// scales[s]: x = d * (scales[s] & 0xF) * code - dmin * (scales[s] >> 4).
void decode_q2_k(const uint8_t *block, float *y) {
    const float d = f16_at(block + 80), dmin = f16_at(block + 82);
    const uint8_t *scales = block;
    for (int half = 0; half < 2; ++half) {
        const uint8_t *q = block + 16 + 32 * half;
        for (int pass = 0; pass < 4; ++pass) {
            for (int l = 0; l < 32; ++l) {
                const int e = 128 * half + 32 * pass + l;
                const uint8_t sc = scales[e / 16];
                const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
                y[e] = dl * static_cast<float>((q[l] >> (2 * pass)) & 3) - ml;
            }
        }
    }
}

// Q3_K: 256 elements in 110 bytes: hmask u8[32] @0, qs u8[64] @32, scales (12 bytes) @96, d f16
// @108. Low two bits as Q2_K's qs (two halves, four passes); the third bit: element e's pass
// index k = 4 * half + pass selects bit k of hmask[e % 32], and a CLEAR bit subtracts 4, so codes
// are -4..3. Sixteen 6-bit scales, minus 32: scale i has low nibble (i < 8 ? scales[i] & 0xF :
// scales[i - 8] >> 4) and top two bits (scales[8 + i % 4] >> (2 * (i / 4))) & 3.
// x = d * (scale_i - 32) * code for sub-block i = e / 16.
void decode_q3_k(const uint8_t *block, float *y) {
    const float d = f16_at(block + 108);
    const uint8_t *hmask = block, *packed = block + 96;
    int scales[16];
    for (int i = 0; i < 16; ++i) {
        const int low = i < 8 ? (packed[i] & 0xF) : (packed[i - 8] >> 4);
        const int top = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
        scales[i] = (low | (top << 4)) - 32;
    }
    for (int half = 0; half < 2; ++half) {
        const uint8_t *q = block + 32 + 32 * half;
        for (int pass = 0; pass < 4; ++pass) {
            const int bit = 4 * half + pass;
            for (int l = 0; l < 32; ++l) {
                const int e = 128 * half + 32 * pass + l;
                const int code = ((q[l] >> (2 * pass)) & 3) - (((hmask[l] >> bit) & 1) ? 0 : 4);
                const float dl = d * static_cast<float>(scales[e / 16]);
                y[e] = dl * static_cast<float>(code);
            }
        }
    }
}

// Q4_K: 256 elements in 144 bytes: d f16 @0, dmin f16 @2, scales (12 bytes) @4, qs u8[128] @16.
// Four chunks of 64 elements (qs + 32 per chunk): low nibbles of the chunk's 32 bytes are elements
// 64c + l with pair 2c, high nibbles 64c + 32 + l with pair 2c + 1.
// x = d * scale * code - dmin * min.
void decode_q4_k(const uint8_t *block, float *y) {
    const float d = f16_at(block), dmin = f16_at(block + 2);
    const uint8_t *packed = block + 4;
    for (int c = 0; c < 4; ++c) {
        const uint8_t *q = block + 16 + 32 * c;
        int sc, mn;
        scale_min_k4(2 * c, packed, &sc, &mn);
        const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
        scale_min_k4(2 * c + 1, packed, &sc, &mn);
        const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
        for (int l = 0; l < 32; ++l) {
            y[64 * c + l] = d1 * static_cast<float>(q[l] & 0xF) - m1;
            y[64 * c + 32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

// Q5_K: 256 elements in 176 bytes: d f16 @0, dmin f16 @2, scales (12 bytes) @4, qh u8[32] @16, qs
// u8[128] @48. As Q4_K, with a fifth bit (+16) from qh[l]: bit 2c for the low-nibble elements of
// chunk c, bit 2c + 1 for the high-nibble ones.
void decode_q5_k(const uint8_t *block, float *y) {
    const float d = f16_at(block), dmin = f16_at(block + 2);
    const uint8_t *packed = block + 4, *qh = block + 16;
    for (int c = 0; c < 4; ++c) {
        const uint8_t *q = block + 48 + 32 * c;
        int sc, mn;
        scale_min_k4(2 * c, packed, &sc, &mn);
        const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
        scale_min_k4(2 * c + 1, packed, &sc, &mn);
        const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
        for (int l = 0; l < 32; ++l) {
            const int low = (q[l] & 0xF) + (((qh[l] >> (2 * c)) & 1) ? 16 : 0);
            const int high = (q[l] >> 4) + (((qh[l] >> (2 * c + 1)) & 1) ? 16 : 0);
            y[64 * c + l] = d1 * static_cast<float>(low) - m1;
            y[64 * c + 32 + l] = d2 * static_cast<float>(high) - m2;
        }
    }
}

// IQ4_NL: 32 elements in 18 bytes: d f16 @0, qs u8[16] @2, nibbles as Q4_0 (low: 0-15, high:
// 16-31) indexing the non-linear grid: x = d * kvalues_iq4nl[nibble].
void decode_iq4_nl(const uint8_t *block, float *y) {
    const float d = f16_at(block);
    for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>(kIq4nlValues[block[2 + j] & 0xF]);
        y[j + 16] = d * static_cast<float>(kIq4nlValues[block[2 + j] >> 4]);
    }
}

}  // namespace bitnet::block_codec
