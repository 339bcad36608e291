// Tensor storage types: ids, block geometry and byte sizes (formats.md §1.5, §1.6, §2.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bitnet {

// The storage layouts of ternary weights (formats.md §1.6, §2.2): the index of a ternary type's
// gemm in KernelTable::gemm_ternary.
enum class TernaryLayout : uint8_t { I2S, TQ2, TQ1, Count };
inline constexpr size_t kTernaryLayoutCount = static_cast<size_t>(TernaryLayout::Count);

// Engine-side type ids. Values equal the ggml ids where those are unambiguous; I2_S is the
// BitNet fork's id 36, which upstream ggml left unused (formats.md §1.5). The GGUF reader maps raw
// file ids to these, resolving the fork collisions (36-39) by architecture.
enum class TensorType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q6_K = 14,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    I2_S = 36,
};

struct TensorTypeTraits {
    const char *name;         // lower-case ggml name, e.g. "q8_0", "i2_s"
    uint32_t block_elements;  // elements per block along a row (ne0 must be a multiple)
    uint32_t block_bytes;     // bytes per block (I2_S: 32 bytes per 128 elements)
    bool ternary;             // stores {-1, 0, +1} codes (I2_S, TQ1_0, TQ2_0)
};

const TensorTypeTraits &tensor_type_traits(TensorType type);
const char *tensor_type_name(TensorType type);
std::optional<TensorType> tensor_type_from_name(std::string_view name);  // "f16", "i2_s", ...

// The ternary layout of I2_S, TQ2_0 or TQ1_0 (any other type is an internal error).
TernaryLayout ternary_layout_of(TensorType type);

// Bytes one row of `row_elements` occupies; row_elements must be a multiple of block_elements.
uint64_t tensor_row_bytes(TensorType type, uint64_t row_elements);

// Total bytes of a tensor with `n_elements` elements, rows of `row_elements`. For I2_S this is
// n_elements/4 + 32: the packed codes followed by a 32-byte tail whose first 4 bytes are the
// per-tensor f32 scale (formats.md §2.1, §2.3). Returns false on overflow or when row_elements
// is not a multiple of the block size.
bool tensor_total_bytes(TensorType type, uint64_t n_elements, uint64_t row_elements, uint64_t *out_bytes);

}  // namespace bitnet
