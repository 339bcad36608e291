// Row and tensor (de)quantization over the block codecs of each type's traits row: the scalar
// reference the SIMD kernels are tested against, and what the loader and the tools encode with.
#include "tensor/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/block_codecs.h"
#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet {
namespace {

void check_row_elements(TensorType type, uint64_t row_elements, const char *what) {
    const uint32_t block = tensor_type_traits(type).block_elements;
    if (row_elements == 0 || row_elements % block != 0) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: %s rows of %llu elements are not a multiple of its block size %u",
             what, tensor_type_name(type), static_cast<unsigned long long>(row_elements), block);
    }
}

}  // namespace

void dequantize_row(TensorType type, const void *row_data, uint64_t row_elements, float tensor_scale, float *out) {
    check_row_elements(type, row_elements, "dequantize_row");
    const auto *src = static_cast<const uint8_t *>(row_data);
    const TensorTypeTraits &traits = tensor_type_traits(type);
    const uint64_t blocks = row_elements / traits.block_elements;
    for (uint64_t b = 0; b < blocks; ++b) {
        traits.decode_block(src + b * traits.block_bytes, out + b * traits.block_elements);
    }
    // A per-tensor scale multiplies the bare codes, one rounding per element (formats.md §2.3).
    if (traits.scale_rule == ScaleRule::PerTensor) {
        for (uint64_t i = 0; i < row_elements; ++i) out[i] = out[i] * tensor_scale;
    }
}

void quantize_row(TensorType type, const float *values, uint64_t row_elements, void *out_row) {
    check_row_elements(type, row_elements, "quantize_row");
    auto *dst = static_cast<uint8_t *>(out_row);
    const TensorTypeTraits &traits = tensor_type_traits(type);
    if (!traits.encode_block) {
        fail(BITNET_ERR_UNSUPPORTED, "quantize_row: %s is decode-only (a quantizer fallback type read from files; "
             "the engine does not write it)", traits.name);
    }
    const uint64_t blocks = row_elements / traits.block_elements;
    for (uint64_t b = 0; b < blocks; ++b) {
        traits.encode_block(values + b * traits.block_elements, dst + b * traits.block_bytes);
    }
}

float tensor_scale(TensorType type, const void *tensor_data, uint64_t n_elements) {
    const TensorTypeTraits &traits = tensor_type_traits(type);
    if (traits.scale_rule != ScaleRule::PerTensor) return 1.0f;
    // The tail starts right after the whole blocks of the tensor (formats.md §2.3).
    const uint64_t tail = n_elements / traits.block_elements * traits.block_bytes;
    return block_codec::load_tensor_scale(static_cast<const uint8_t *>(tensor_data) + tail);
}

void dequantize_rows(TensorType type, const void *tensor_data, uint64_t row_elements, uint64_t total_rows,
                     uint64_t first_row, uint64_t n_rows, float *out) {
    check_row_elements(type, row_elements, "dequantize_rows");
    uint64_t end_row;
    uint64_t total_elements;
    if (!checked_add(first_row, n_rows, &end_row) || end_row > total_rows ||
        !checked_mul(row_elements, total_rows, &total_elements)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "dequantize_rows: rows [%llu, +%llu) outside a tensor of %llu rows",
             static_cast<unsigned long long>(first_row), static_cast<unsigned long long>(n_rows),
             static_cast<unsigned long long>(total_rows));
    }
    const auto *data = static_cast<const uint8_t *>(tensor_data);
    const float scale = tensor_scale(type, data, total_elements);
    const uint64_t row_bytes = tensor_row_bytes(type, row_elements);
    for (uint64_t r = 0; r < n_rows; ++r) {
        dequantize_row(type, data + (first_row + r) * row_bytes, row_elements, scale, out + r * row_elements);
    }
}

void quantize_tensor(TensorType type, const float *values, uint64_t row_elements, uint64_t n_rows, void *out) {
    check_row_elements(type, row_elements, "quantize_tensor");
    uint64_t total_elements;
    uint64_t total_bytes;
    if (!checked_mul(row_elements, n_rows, &total_elements) ||
        !tensor_total_bytes(type, total_elements, row_elements, &total_bytes)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "quantize_tensor: %llu x %llu %s tensor is too large",
             static_cast<unsigned long long>(n_rows), static_cast<unsigned long long>(row_elements),
             tensor_type_name(type));
    }
    auto *dst = static_cast<uint8_t *>(out);
    const uint64_t row_bytes = tensor_row_bytes(type, row_elements);
    for (uint64_t r = 0; r < n_rows; ++r) quantize_row(type, values + r * row_elements, row_elements, dst + r * row_bytes);

    const TensorTypeTraits &traits = tensor_type_traits(type);
    if (traits.scale_rule == ScaleRule::PerTensor) {
        // scale = max|w| over the whole tensor, computed in double, stored as f32 in the first
        // 4 tail bytes; the rest of the tail is zero (as the Python writer does, §2.3).
        double scale = 0.0;
        for (uint64_t i = 0; i < total_elements; ++i) scale = std::max(scale, std::fabs(static_cast<double>(values[i])));
        uint8_t *tail = dst + n_rows * row_bytes;
        std::memset(tail, 0, traits.tensor_tail_bytes);
        block_codec::store_tensor_scale(tail, static_cast<float>(scale));
    }
}

}  // namespace bitnet
