// Compile-time checks that shaders/shader_interface.h means the same thing to C++ as to GLSL:
// the type ids are the engine's tensor type ids, and each push-constant struct has the layout of
// its GLSL block (4-byte members back to back, no padding, within the push-constant range).
#include <cstddef>
#include <type_traits>

#include "backend/vulkan/vulkan_pipelines.h"
#include "shaders/shader_interface.h"
#include "tensor/tensor_type.h"

namespace bitnet::shader {
namespace {

constexpr bool same_id(uint shader_type, TensorType engine_type) {
    return shader_type == static_cast<uint>(engine_type);
}
static_assert(same_id(TYPE_F32, TensorType::F32));
static_assert(same_id(TYPE_F16, TensorType::F16));
static_assert(same_id(TYPE_Q4_0, TensorType::Q4_0));
static_assert(same_id(TYPE_Q8_0, TensorType::Q8_0));
static_assert(same_id(TYPE_Q6_K, TensorType::Q6_K));
static_assert(same_id(TYPE_BF16, TensorType::BF16));
static_assert(same_id(TYPE_TQ1, TensorType::TQ1_0));
static_assert(same_id(TYPE_TQ2, TensorType::TQ2_0));
static_assert(same_id(TYPE_I2S, TensorType::I2_S));

// A block whose last member ends the struct, with 4-byte alignment, has no padding anywhere: the
// members are all 4 bytes, so C++ and std430 give every one the same offset.
template <class Params>
constexpr bool matches_glsl_block(size_t last_member_offset) {
    return std::is_standard_layout_v<Params> && std::is_trivially_copyable_v<Params> && alignof(Params) == 4 &&
           last_member_offset + 4 == sizeof(Params) && sizeof(Params) <= vk::Pipelines::kPushConstantBytes;
}
static_assert(matches_glsl_block<QuantizeParams>(offsetof(QuantizeParams, scale_word)));
static_assert(matches_glsl_block<MatmulA8Params>(offsetof(MatmulA8Params, weight_scale)));
static_assert(matches_glsl_block<MatmulFloatParams>(offsetof(MatmulFloatParams, gather_word)));
static_assert(matches_glsl_block<EmbedParams>(offsetof(EmbedParams, output_scale)));
static_assert(matches_glsl_block<RmsNormParams>(offsetof(RmsNormParams, eps)));
static_assert(matches_glsl_block<RopeParams>(offsetof(RopeParams, n_tokens)));
static_assert(matches_glsl_block<KvStoreParams>(offsetof(KvStoreParams, is_f16)));
static_assert(matches_glsl_block<RopeShiftParams>(offsetof(RopeShiftParams, is_f16)));
static_assert(matches_glsl_block<AttentionParams>(offsetof(AttentionParams, scale)));
static_assert(matches_glsl_block<GatedParams>(offsetof(GatedParams, relu_squared)));
static_assert(matches_glsl_block<AddParams>(offsetof(AddParams, n)));

}  // namespace
}  // namespace bitnet::shader
