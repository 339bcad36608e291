#include "tensor/tensor_type.h"

#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet {

const TensorTypeTraits &tensor_type_traits(TensorType type) {
    // Geometry from formats.md §1.6 (ggml-common.h block structs) and §2.1 (I2_S).
    static const TensorTypeTraits f32{"f32", 1, 4, false};
    static const TensorTypeTraits f16{"f16", 1, 2, false};
    static const TensorTypeTraits bf16{"bf16", 1, 2, false};
    static const TensorTypeTraits q4_0{"q4_0", 32, 18, false};
    static const TensorTypeTraits q8_0{"q8_0", 32, 34, false};
    static const TensorTypeTraits q6_k{"q6_k", 256, 210, false};
    static const TensorTypeTraits tq1_0{"tq1_0", 256, 54, true};
    static const TensorTypeTraits tq2_0{"tq2_0", 256, 66, true};
    static const TensorTypeTraits i2_s{"i2_s", 128, 32, true};
    switch (type) {
        case TensorType::F32: return f32;
        case TensorType::F16: return f16;
        case TensorType::BF16: return bf16;
        case TensorType::Q4_0: return q4_0;
        case TensorType::Q8_0: return q8_0;
        case TensorType::Q6_K: return q6_k;
        case TensorType::TQ1_0: return tq1_0;
        case TensorType::TQ2_0: return tq2_0;
        case TensorType::I2_S: return i2_s;
    }
    fail(BITNET_ERR_INTERNAL, "tensor_type_traits: unknown tensor type %u", static_cast<unsigned>(type));
}

TernaryLayout ternary_layout_of(TensorType type) {
    switch (type) {
        case TensorType::I2_S: return TernaryLayout::I2S;
        case TensorType::TQ2_0: return TernaryLayout::TQ2;
        case TensorType::TQ1_0: return TernaryLayout::TQ1;
        default: break;
    }
    fail(BITNET_ERR_INTERNAL, "ternary_layout_of: %s is not a ternary type", tensor_type_name(type));
}

const char *tensor_type_name(TensorType type) { return tensor_type_traits(type).name; }

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
    for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q4_0, TensorType::Q8_0,
                            TensorType::Q6_K, TensorType::TQ1_0, TensorType::TQ2_0, TensorType::I2_S}) {
        if (name == tensor_type_traits(type).name) return type;
    }
    return std::nullopt;
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
    if (type == TensorType::I2_S && !checked_add(bytes, 32, &bytes)) return false;  // scale tail, §2.1
    *out_bytes = bytes;
    return true;
}

}  // namespace bitnet
