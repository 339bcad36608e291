#include "tensor/tensor_type.h"

#include "tensor/block_codecs.h"
#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet {
namespace {

using namespace block_codec;
constexpr TernaryLayout kNotTernary = TernaryLayout::Count;

// One row per type. Geometry from formats.md §1.6 (ggml-common.h block structs) and §2.1 (I2_S);
// alignment: f32 data is read as floats, 16-bit fields (f16 values, block scales) as uint16, I2_S
// only bytewise (its tail scale is read once, bytewise, at load).
// clang-format off
constexpr TensorTypeTraits kTypes[] = {
//   type                name      block bytes tail align scale rule           ternary layout              kernel shader   codec
    {TensorType::F32,    "f32",    1,    4,    0,   4,   ScaleRule::None,      false, kNotTernary,         true,  1, 4,   decode_f32,    encode_f32},
    {TensorType::F16,    "f16",    1,    2,    0,   2,   ScaleRule::None,      false, kNotTernary,         true,  1, 4,   decode_f16,    encode_f16},
    {TensorType::BF16,   "bf16",   1,    2,    0,   2,   ScaleRule::None,      false, kNotTernary,         true,  1, 4,   decode_bf16,   encode_bf16},
    {TensorType::Q4_0,   "q4_0",   32,   18,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         true,  1, 8,   decode_q4_0,   encode_q4_0},
    {TensorType::Q8_0,   "q8_0",   32,   34,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         true,  1, 4,   decode_q8_0,   encode_q8_0},
    {TensorType::Q6_K,   "q6_k",   256,  210,  0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         true,  1, 16,  decode_q6_k,   encode_q6_k},
    // The quantizer fallback types: decode-only, run through the row-dequantizing path (float_kernel
    // false; on Vulkan they are uploaded as f32, so their shader walk is F32's).
    {TensorType::Q4_1,   "q4_1",   32,   20,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q4_1,   nullptr},
    {TensorType::Q5_0,   "q5_0",   32,   22,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q5_0,   nullptr},
    {TensorType::Q5_1,   "q5_1",   32,   24,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q5_1,   nullptr},
    {TensorType::Q2_K,   "q2_k",   256,  84,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q2_k,   nullptr},
    {TensorType::Q3_K,   "q3_k",   256,  110,  0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q3_k,   nullptr},
    {TensorType::Q4_K,   "q4_k",   256,  144,  0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q4_k,   nullptr},
    {TensorType::Q5_K,   "q5_k",   256,  176,  0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_q5_k,   nullptr},
    {TensorType::IQ4_NL, "iq4_nl", 32,   18,   0,   2,   ScaleRule::PerBlock,  false, kNotTernary,         false, 1, 4,   decode_iq4_nl, nullptr},
    {TensorType::TQ1_0,  "tq1_0",  256,  54,   0,   2,   ScaleRule::PerBlock,  true,  TernaryLayout::TQ1,  false, 13, 256, decode_tq1_0, encode_tq1_0},
    {TensorType::TQ2_0,  "tq2_0",  256,  66,   0,   2,   ScaleRule::PerBlock,  true,  TernaryLayout::TQ2,  false, 1, 16,  decode_tq2_0,  encode_tq2_0},
    {TensorType::I2_S,   "i2_s",   128,  32,   32,  1,   ScaleRule::PerTensor, true,  TernaryLayout::I2S,  false, 1, 16,  decode_i2s,    encode_i2s},
};
// clang-format on

}  // namespace

const TensorTypeTraits &tensor_type_traits(TensorType type) {
    for (const TensorTypeTraits &row : kTypes) {
        if (row.type == type) return row;
    }
    fail(BITNET_ERR_INTERNAL, "tensor_type_traits: unknown tensor type %u", static_cast<unsigned>(type));
}

const char *tensor_type_name(TensorType type) { return tensor_type_traits(type).name; }

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
    for (const TensorTypeTraits &row : kTypes) {
        if (name == row.name) return row.type;
    }
    return std::nullopt;
}

std::optional<TensorType> tensor_type_from_id(uint32_t id) {
    for (const TensorTypeTraits &row : kTypes) {
        if (static_cast<uint32_t>(row.type) == id) return row.type;
    }
    return std::nullopt;
}

const TensorTypeTraits *all_tensor_types(size_t *count) {
    *count = sizeof kTypes / sizeof kTypes[0];
    return kTypes;
}

uint64_t tensor_row_bytes(TensorType type, uint64_t row_elements) {
    const TensorTypeTraits &traits = tensor_type_traits(type);
    return row_elements / traits.block_elements * traits.block_bytes;
}

bool tensor_total_bytes(TensorType type, uint64_t n_elements, uint64_t row_elements, uint64_t *out_bytes) {
    const TensorTypeTraits &traits = tensor_type_traits(type);
    if (row_elements == 0 || row_elements % traits.block_elements != 0) return false;
    if (n_elements % row_elements != 0) return false;
    uint64_t blocks = n_elements / traits.block_elements;
    uint64_t bytes;
    if (!checked_mul(blocks, traits.block_bytes, &bytes)) return false;
    if (!checked_add(bytes, traits.tensor_tail_bytes, &bytes)) return false;
    *out_bytes = bytes;
    return true;
}

uint64_t tensor_shader_units(TensorType type, uint64_t cols) {
    const TensorTypeTraits &traits = tensor_type_traits(type);
    return (cols * traits.shader_units + traits.shader_span - 1) / traits.shader_span;
}

}  // namespace bitnet
