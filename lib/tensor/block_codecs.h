// Scalar codecs of one block of each stored type (formats.md §1.6, §2.1-2.3): the specification
// that SIMD kernels and shaders are tested against. Each type's row in tensor_type.cpp names its
// pair; code outside lib/tensor reaches them through tensor_type_traits() or tensor/quantize.h.
#pragma once

#include <cstdint>

namespace bitnet::block_codec {

// decode: one block -> block_elements floats. Per-block scales (Q*, TQ*) are applied here; a
// per-tensor scale (I2_S) is not: decode_i2s gives the ternary values, and the caller multiplies.
// encode: block_elements floats -> one block, by the reference quantizer's rules.
void decode_f32(const uint8_t *block, float *y);
void encode_f32(const float *x, uint8_t *block);
void decode_f16(const uint8_t *block, float *y);
void encode_f16(const float *x, uint8_t *block);
void decode_bf16(const uint8_t *block, float *y);
void encode_bf16(const float *x, uint8_t *block);
void decode_q8_0(const uint8_t *block, float *y);
void encode_q8_0(const float *x, uint8_t *block);
void decode_q4_0(const uint8_t *block, float *y);
void encode_q4_0(const float *x, uint8_t *block);
void decode_q6_k(const uint8_t *block, float *y);
void encode_q6_k(const float *x, uint8_t *block);
// Decode-only: the types llama.cpp's quantizer falls back to (formats.md §1.6, "fallback types").
void decode_q4_1(const uint8_t *block, float *y);
void decode_q5_0(const uint8_t *block, float *y);
void decode_q5_1(const uint8_t *block, float *y);
void decode_q2_k(const uint8_t *block, float *y);
void decode_q3_k(const uint8_t *block, float *y);
void decode_q4_k(const uint8_t *block, float *y);
void decode_q5_k(const uint8_t *block, float *y);
void decode_iq4_nl(const uint8_t *block, float *y);
void decode_tq2_0(const uint8_t *block, float *y);
void encode_tq2_0(const float *x, uint8_t *block);
void decode_tq1_0(const uint8_t *block, float *y);
void encode_tq1_0(const float *x, uint8_t *block);
void decode_i2s(const uint8_t *block, float *y);
void encode_i2s(const float *x, uint8_t *block);

// The little-endian f32 of a per-tensor scale (the first 4 bytes of the I2_S tail, §2.3).
float load_tensor_scale(const uint8_t *p);
void store_tensor_scale(uint8_t *p, float scale);

}  // namespace bitnet::block_codec
