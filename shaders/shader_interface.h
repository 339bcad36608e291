// What the Vulkan backend (C++) and the compute shaders (GLSL) must agree on: the weight type
// ids the shaders decode, and the push-constant block of each shader. This file is read by both
// compilers, so a field added or moved on one side is added or moved on the other:
//   - C++ (lib/backend/vulkan) sees constants and plain structs in namespace bitnet::shader;
//   - GLSL sees global constants and, for the one block a shader names before including this file
//     (#define WANT_..._PARAMS), a `layout(push_constant) uniform ... { } p;` block.
// Every member is a 32-bit uint or float, so the push-constant layout (std430: 4-byte members,
// back to back) and the C++ struct layout agree; the backend checks the sizes with static_assert.
// Offsets in the blocks count 32-bit words of the work buffer (`*_word`) unless named `*_byte`.
#ifndef BITNET_SHADER_INTERFACE_H
#define BITNET_SHADER_INTERFACE_H

#ifdef __cplusplus
#include <cstdint>
#define SHADER_CONSTANT(type, name, value) inline constexpr type name = value;
#define PUSH_CONSTANTS(name) struct name
#define PUSH_CONSTANTS_INSTANCE
namespace bitnet::shader {
using uint = std::uint32_t;
#else
#define SHADER_CONSTANT(type, name, value) const type name = value;
#define PUSH_CONSTANTS(name) layout(push_constant) uniform name
#define PUSH_CONSTANTS_INSTANCE p
#endif

// Weight types, by the engine's tensor type ids (which are ggml's, lib/tensor/tensor_type.h): the
// float shaders receive one as a specialization constant, the ternary ones are built per type.
SHADER_CONSTANT(uint, TYPE_F32, 0u)
SHADER_CONSTANT(uint, TYPE_F16, 1u)
SHADER_CONSTANT(uint, TYPE_Q4_0, 2u)
SHADER_CONSTANT(uint, TYPE_Q8_0, 8u)
SHADER_CONSTANT(uint, TYPE_Q6_K, 14u)
SHADER_CONSTANT(uint, TYPE_BF16, 30u)
SHADER_CONSTANT(uint, TYPE_TQ1, 34u)
SHADER_CONSTANT(uint, TYPE_TQ2, 35u)
SHADER_CONSTANT(uint, TYPE_I2S, 36u)

// Workgroup shapes the backend sizes its dispatches by: the matmul shaders (matmul_a8.glsl,
// matmul_float.glsl) run MATMUL_INVOCATIONS invocations over up to MATMUL_TOKENS tokens each;
// attention.comp keeps a query head of at most ATTENTION_MAX_HEAD_DIM values in shared memory.
SHADER_CONSTANT(uint, MATMUL_INVOCATIONS, 128u)
SHADER_CONSTANT(uint, MATMUL_TOKENS, 8u)
SHADER_CONSTANT(uint, ATTENTION_MAX_HEAD_DIM, 256u)

#if defined(__cplusplus) || defined(WANT_QUANTIZE_PARAMS)
// quantize.comp: float activation rows to int8 codes and one scale per token.
PUSH_CONSTANTS(QuantizeParams) {
    uint in_word;       // first activation of token 0
    uint in_stride;     // words between tokens
    uint cols;
    uint padded_words;  // code words per token written (zeros past cols)
    uint codes_word;
    uint codes_stride;
    uint scale_word;    // one float per token
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_MATMUL_A8_PARAMS)
// matmul_a8.glsl (matmul_i2s/tq2/tq1.comp): ternary weights times int8 activations.
PUSH_CONSTANTS(MatmulA8Params) {
    uint weight_byte;   // row 0 of this dispatch in the weight page
    uint row_bytes;
    uint n_rows;
    uint units;         // units per row
    uint codes_word;
    uint codes_stride;
    uint scale_word;
    uint out_word;      // out[token * out_stride + row], row 0 of this dispatch
    uint out_stride;
    uint n_tokens;
    float weight_scale;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_MATMUL_FLOAT_PARAMS)
// matmul_float.glsl (matmul_float.comp, lm_head.comp): any weight type times float activations.
PUSH_CONSTANTS(MatmulFloatParams) {
    uint weight_byte;     // row 0 of this dispatch in the weight page
    uint row_bytes;
    uint n_rows;
    uint units;           // units per row
    uint x_word;          // input row of token 0 (LM_HEAD: of batch entry 0); rows 16-byte aligned
    uint x_stride;
    uint out_word;
    uint out_stride;
    uint n_tokens;
    float element_scale;  // a per-tensor scale each decoded value is multiplied by (I2_S); else 1
    float output_scale;   // the weight's scale otherwise (model.h ScaledDecode), after the dot product
    uint gather_word;     // LM_HEAD: the batch entry of each output row
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_EMBED_PARAMS)
// embed.comp (matmul_float.glsl with EMBED): token embedding rows into the residual rows. The
// fields the shared decoder reads (element_scale) keep their names.
PUSH_CONSTANTS(EmbedParams) {
    uint weight_byte;     // row first_row of the table in this weight page
    uint row_bytes;
    uint first_row;       // the rows of the table in this page: first_row .. first_row + n_rows - 1
    uint n_rows;
    uint units;           // units per row
    uint cols;            // values per row
    uint tokens_word;     // the batch's token ids
    uint out_word;        // residual row of token 0
    uint out_stride;
    uint n_tokens;
    float element_scale;  // as in MatmulFloatParams (1 for an embedding)
    float output_scale;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_RMS_NORM_PARAMS)
// rms_norm.comp
PUSH_CONSTANTS(RmsNormParams) {
    uint in_word;
    uint in_stride;
    uint out_word;
    uint out_stride;
    uint n;
    uint gamma_word;
    float eps;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_ROPE_PARAMS)
// rope.comp
PUSH_CONSTANTS(RopeParams) {
    uint buffer_word;
    uint stride;
    uint n_heads;
    uint head_dim;
    uint half_rot;    // n_rot / 2 pairs per head
    uint neox;
    uint table_word;  // [token][pair] (cos, sin)
    uint n_tokens;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_ROPE_SHIFT_PARAMS)
// rope_shift.comp: rotate the cached keys of moved cells (context shift).
PUSH_CONSTANTS(RopeShiftParams) {
    uint n_cells;
    uint n_heads;     // KV heads
    uint head_dim;
    uint half_rot;
    uint neox;
    uint cells_word;  // the cell of each entry
    uint table_word;  // [entry][pair] (cos, sin) of the entry's delta
    uint keys_base;   // element index of the keys of cell 0 in the layer's cache
    uint n_embd_kv;
    uint is_f16;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_KV_STORE_PARAMS)
// kv_store.comp
PUSH_CONSTANTS(KvStoreParams) {
    uint n_tokens;
    uint n_embd_kv;
    uint k_word;       // K activations of token 0
    uint v_word;
    uint stride;       // words between tokens' K (and V) rows
    uint cells_word;   // KV cell of each token
    uint keys_base;    // element index of the keys of cell 0 in the layer's cache
    uint values_base;
    uint is_f16;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_ATTENTION_PARAMS)
// attention.comp
PUSH_CONSTANTS(AttentionParams) {
    uint n_cells;          // cells to scan: 1 + the highest occupied one
    uint head_dim;
    uint group;            // query heads per KV head
    uint n_embd_kv;
    uint q_word;
    uint q_stride;
    uint out_word;
    uint out_stride;
    uint keys_base;        // element index of the keys of cell 0 in the layer's cache
    uint values_base;
    uint is_f16;
    uint token_pos_word;   // per token: position, then (seq mask low, high) pairs
    uint token_mask_word;
    uint cell_pos_word;    // per cell: position (-1: empty), then (seq mask low, high) pairs
    uint cell_mask_word;
    float scale;           // 1 / sqrt(head_dim)
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_GATED_PARAMS)
// gated_activation.comp
PUSH_CONSTANTS(GatedParams) {
    uint gate_word;
    uint up_word;
    uint n;
    uint relu_squared;
} PUSH_CONSTANTS_INSTANCE;
#endif

#if defined(__cplusplus) || defined(WANT_ADD_PARAMS)
// add.comp
PUSH_CONSTANTS(AddParams) {
    uint into_word;
    uint from_word;
    uint n;
} PUSH_CONSTANTS_INSTANCE;
#endif

#ifdef __cplusplus
}  // namespace bitnet::shader
#endif
#undef SHADER_CONSTANT
#undef PUSH_CONSTANTS
#undef PUSH_CONSTANTS_INSTANCE

#endif  // BITNET_SHADER_INTERFACE_H
