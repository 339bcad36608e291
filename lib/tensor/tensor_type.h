// Tensor storage types: one traits row per type (block geometry, scalar codec, scale rule, the
// ternary kernel layout), in the spirit of ggml's type_traits. Adding a type is one row in
// tensor_type.cpp plus its kernels: code outside lib/tensor asks the row instead of branching on
// the type (formats.md §1.5, §1.6, §2.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bitnet {

// Engine-side type ids. Values equal the ggml ids where those are unambiguous; I2_S is the
// BitNet fork's id 36, which upstream ggml left unused (formats.md §1.5). The GGUF reader maps raw
// file ids to these, resolving the fork collisions (36-39) by architecture.
enum class TensorType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    IQ4_NL = 20,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    I2_S = 36,
};

// The ternary storage layouts: each ternary type names one, and every backend keeps one
// ternary × int8 kernel per layout, indexed by it (KernelTable::gemm_ternary on the CPU, the
// matmul shader table on Vulkan). A new ternary layout is a new value here plus those kernels.
enum class TernaryLayout : uint8_t { I2S, TQ2, TQ1, Count };
inline constexpr size_t kTernaryLayoutCount = static_cast<size_t>(TernaryLayout::Count);

// Where a type keeps the scale its stored codes are multiplied by.
enum class ScaleRule : uint8_t {
    None,       // plain floats: the stored values are the weights
    PerBlock,   // f16 scales (and mins) inside every block (Q*, K-quants, IQ4_NL, TQ1_0, TQ2_0;
                // §1.6), applied by the decoder and inside the kernels' block loops
    PerTensor,  // one f32 for the whole tensor in a tail after the last row (I2_S, §2.1, §2.3):
                // read once at load and folded into Weight::scale, so kernels see bare codes
};
// A model's optional per-projection `.scale` tensor (llama.cpp `bitnet` files) is not a property of
// the type: the loader multiplies it into Weight::scale too, whatever the type.

struct TensorTypeTraits {
    TensorType type;
    const char *name;               // lower-case ggml name, e.g. "q8_0", "i2_s"
    uint32_t block_elements;        // elements per block along a row (ne0 must be a multiple)
    uint32_t block_bytes;           // bytes per block
    uint32_t tensor_tail_bytes;     // bytes after the last row (I2_S: 32, holding its scale, §2.3)
    uint32_t data_alignment;        // alignment the kernels need for the tensor's data
    ScaleRule scale_rule;
    bool ternary;                   // codes are {-1, 0, +1} (times a scale): runs as BitLinear
    TernaryLayout ternary_layout;   // the kernel layout of a ternary type (Count for the others)
    // Float-activation products with this type: true when gemm_float (kernels/) and the float
    // matmul shader decode its blocks themselves (the plain floats, Q8_0, Q4_0, Q6_K); false for
    // the types llama.cpp's quantizer falls back to (Q4_1, Q5_*, K-quants, IQ4_NL), which go through
    // the one row-dequantizing path: decode_block into f32 rows on the CPU, f32 at upload on Vulkan.
    // Ternary types run their own kernels (false here; their float-activation mode decodes rows too).
    bool float_kernel;
    // How the Vulkan shaders walk a row: units per row = ceil(cols * shader_units / shader_span)
    // (words of codes or runs of elements; shaders/weights.glsl, shaders/ternary.glsl).
    uint32_t shader_units;
    uint32_t shader_span;
    // The scalar codec of one block (tensor/block_codecs.h), the specification of every kernel.
    // encode_block is null for the decode-only fallback types: the engine reads them from files
    // but never writes them (tensor/quantize.h refuses with an error).
    void (*decode_block)(const uint8_t *block, float *out);
    void (*encode_block)(const float *values, uint8_t *block);
};

const TensorTypeTraits &tensor_type_traits(TensorType type);
const char *tensor_type_name(TensorType type);
std::optional<TensorType> tensor_type_from_name(std::string_view name);  // "f16", "i2_s", ...
// The type whose id (TensorType's value, ggml's id) is `id`, if the table has one. Ids 36-39 are
// ambiguous in files (formats.md §1.5): the GGUF reader resolves those before asking.
std::optional<TensorType> tensor_type_from_id(uint32_t id);
// Every type the engine knows, in table order, for code that walks them all (tests, tools).
const TensorTypeTraits *all_tensor_types(size_t *count);

// Bytes one row of `row_elements` occupies; row_elements must be a multiple of block_elements.
uint64_t tensor_row_bytes(TensorType type, uint64_t row_elements);

// Total bytes of a tensor with `n_elements` elements, rows of `row_elements`: whole blocks plus
// the type's tail (I2_S: n_elements/4 + 32, the packed codes then a 32-byte tail whose first 4
// bytes are the per-tensor f32 scale, formats.md §2.1, §2.3). Returns false on overflow or when
// row_elements is not a multiple of the block size.
bool tensor_total_bytes(TensorType type, uint64_t n_elements, uint64_t row_elements, uint64_t *out_bytes);

// The shader units of a row of `cols` elements (see TensorTypeTraits::shader_units).
uint64_t tensor_shader_units(TensorType type, uint64_t cols);

}  // namespace bitnet
