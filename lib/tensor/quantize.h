// Scalar reference (de)quantizers for every stored type. They are the specification the SIMD
// kernels are tested against, and what the GGUF writer and the synthetic-model tool use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/tensor_type.h"

namespace bitnet {

// Decode `n_rows` rows of `row_elements` each, starting at row `first_row`, of a tensor whose
// stored bytes start at `tensor_data` and which has `total_rows` rows in all (needed to find the
// I2_S tail scale at byte total_elements/4). Writes n_rows * row_elements floats to `out`.
void dequantize_rows(TensorType type, const void *tensor_data, uint64_t row_elements, uint64_t total_rows,
                     uint64_t first_row, uint64_t n_rows, float *out);

// Encode a whole tensor of `n_rows` rows of `row_elements` floats into `out`, which must hold
// tensor_total_bytes() bytes. Float types round to nearest even. Q-types use the ggml reference
// quantizers' rules (formats.md §1.6). Decode-only types (the fallback types, encode_block null)
// throw Error(BITNET_ERR_UNSUPPORTED). Ternary types expect values that are already ternary times a
// scale: TQ1_0/TQ2_0 store per-block absmax scales; I2_S stores max|w| over the tensor as its one
// scale and writes zeros into the rest of the 32-byte tail.
void quantize_tensor(TensorType type, const float *values, uint64_t row_elements, uint64_t n_rows, void *out);

// One row of `row_elements` values (a multiple of the block size). `row_data` points at the row's
// first block (tensor_row_bytes(type, row_elements) bytes). A type with a per-tensor scale
// (ScaleRule::PerTensor: I2_S) multiplies its codes by `tensor_scale` (pass 1 for the bare ternary
// values); other types ignore it. quantize_row for I2_S writes only the packed codes (no scale
// tail; I2_S codes depend on sign only, so no scale is needed to encode a row).
void dequantize_row(TensorType type, const void *row_data, uint64_t row_elements, float tensor_scale, float *out);
void quantize_row(TensorType type, const float *values, uint64_t row_elements, void *out_row);

// I2_S element codes: code = (byte >> (6 - 2*group)) & 3 with code 0 -> -1, 1 -> 0, 2 -> +1.
// Returns the ternary value (-1, 0, +1) of element `index` (row-major) of an I2_S tensor.
// Code 3 is never written by any quantizer; it decodes as code - 1 = +2, which is what bitnet.cpp's
// kernels compute (their dot product uses code - 1, formats.md §2.2, §2.4).
int i2s_ternary_at(const uint8_t *packed, uint64_t index);
// The per-tensor f32 scale of a ScaleRule::PerTensor type: the first 4 bytes (little-endian) of
// the tail after the tensor's blocks (I2_S: at byte n_elements/4). 1 for every other type.
float tensor_scale(TensorType type, const void *tensor_data, uint64_t n_elements);

}  // namespace bitnet
