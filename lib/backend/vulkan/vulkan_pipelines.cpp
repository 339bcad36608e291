#include "backend/vulkan/vulkan_pipelines.h"

#include "shaders/add.spv.h"
#include "shaders/attention.spv.h"
#include "shaders/embed.spv.h"
#include "shaders/gated_activation.spv.h"
#include "shaders/kv_store.spv.h"
#include "shaders/lm_head.spv.h"
#include "shaders/matmul_float.spv.h"
#include "shaders/matmul_i2s.spv.h"
#include "shaders/matmul_i2s_dot.spv.h"
#include "shaders/matmul_i2s_dot_subgroup.spv.h"
#include "shaders/matmul_i2s_subgroup.spv.h"
#include "shaders/matmul_tq1.spv.h"
#include "shaders/matmul_tq1_dot.spv.h"
#include "shaders/matmul_tq1_dot_subgroup.spv.h"
#include "shaders/matmul_tq1_subgroup.spv.h"
#include "shaders/matmul_tq2.spv.h"
#include "shaders/matmul_tq2_dot.spv.h"
#include "shaders/matmul_tq2_dot_subgroup.spv.h"
#include "shaders/matmul_tq2_subgroup.spv.h"
#include "shaders/quantize.spv.h"
#include "shaders/rms_norm.spv.h"
#include "shaders/rope.spv.h"
#include "shaders/rope_shift.spv.h"
#include "shaders/shader_interface.h"
#include "util/error.h"

namespace bitnet::vk {
namespace {

struct Spirv {
    const char *name;
    const uint32_t *words;
    size_t n_words;
};

static_assert(Pipelines::kMatmulTokens == shader::MATMUL_TOKENS);

// The four builds of a ternary matmul shader (cmake/vulkan.cmake): [integer dot][subgroup].
#define BITNET_TERNARY_VARIANTS(name)                                                         \
    {{{#name, spirv_##name, spirv_##name##_words},                                            \
      {#name "_subgroup", spirv_##name##_subgroup, spirv_##name##_subgroup_words}},           \
     {{#name "_dot", spirv_##name##_dot, spirv_##name##_dot_words},                           \
      {#name "_dot_subgroup", spirv_##name##_dot_subgroup, spirv_##name##_dot_subgroup_words}}}

Spirv spirv_of(Shader shader, const DeviceFeatures &features) {
    const int dot = features.integer_dot ? 1 : 0, subgroup = features.subgroup_arithmetic ? 1 : 0;
    switch (shader) {
        case Shader::Quantize: return {"quantize", spirv_quantize, spirv_quantize_words};
        case Shader::MatmulI2S: {
            static const Spirv variants[2][2] = BITNET_TERNARY_VARIANTS(matmul_i2s);
            return variants[dot][subgroup];
        }
        case Shader::MatmulTQ2: {
            static const Spirv variants[2][2] = BITNET_TERNARY_VARIANTS(matmul_tq2);
            return variants[dot][subgroup];
        }
        case Shader::MatmulTQ1: {
            static const Spirv variants[2][2] = BITNET_TERNARY_VARIANTS(matmul_tq1);
            return variants[dot][subgroup];
        }
        case Shader::MatmulFloat: return {"matmul_float", spirv_matmul_float, spirv_matmul_float_words};
        case Shader::LmHead: return {"lm_head", spirv_lm_head, spirv_lm_head_words};
        case Shader::Embed: return {"embed", spirv_embed, spirv_embed_words};
        case Shader::RmsNorm: return {"rms_norm", spirv_rms_norm, spirv_rms_norm_words};
        case Shader::Rope: return {"rope", spirv_rope, spirv_rope_words};
        case Shader::RopeShift: return {"rope_shift", spirv_rope_shift, spirv_rope_shift_words};
        case Shader::KvStore: return {"kv_store", spirv_kv_store, spirv_kv_store_words};
        case Shader::Attention: return {"attention", spirv_attention, spirv_attention_words};
        case Shader::GatedActivation: return {"gated_activation", spirv_gated_activation, spirv_gated_activation_words};
        case Shader::Add: return {"add", spirv_add, spirv_add_words};
        case Shader::Count: break;
    }
    fail(BITNET_ERR_INTERNAL, "vulkan: unknown shader %d", static_cast<int>(shader));
}

}  // namespace

Pipelines::Pipelines(Device &device) : device_(device) {
    const DeviceFunctions &fn = device.fn();
    matmul_lanes_ = device.type() == VK_PHYSICAL_DEVICE_TYPE_CPU ? 8 : 32;
    VkDescriptorSetLayoutBinding binding{};
    binding.binding = 0;
    binding.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    binding.descriptorCount = 1;
    binding.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    VkDescriptorSetLayoutCreateInfo set_info{};
    set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    set_info.bindingCount = 1;
    set_info.pBindings = &binding;
    check(fn.vkCreateDescriptorSetLayout(device.handle(), &set_info, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");

    VkDescriptorSetLayout layouts[kSets] = {set_layout_, set_layout_, set_layout_};
    VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
    VkPipelineLayoutCreateInfo layout_info{};
    layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    layout_info.setLayoutCount = kSets;
    layout_info.pSetLayouts = layouts;
    layout_info.pushConstantRangeCount = 1;
    layout_info.pPushConstantRanges = &push;
    VkResult result = fn.vkCreatePipelineLayout(device.handle(), &layout_info, nullptr, &layout_);
    if (result != VK_SUCCESS) {
        fn.vkDestroyDescriptorSetLayout(device.handle(), set_layout_, nullptr);
        check(result, "vkCreatePipelineLayout");
    }
}

Pipelines::~Pipelines() {
    const DeviceFunctions &fn = device_.fn();
    for (const auto &[key, pipeline] : pipelines_) fn.vkDestroyPipeline(device_.handle(), pipeline, nullptr);
    fn.vkDestroyPipelineLayout(device_.handle(), layout_, nullptr);
    fn.vkDestroyDescriptorSetLayout(device_.handle(), set_layout_, nullptr);
}

VkPipeline Pipelines::get(Shader shader, uint32_t weight_type, uint32_t tokens) {
    if (tokens < 1 || tokens > kMatmulTokens || tokens > matmul_lanes_) {
        fail(BITNET_ERR_INTERNAL, "vulkan: %u tokens per matmul workgroup (1 to %u)", tokens, kMatmulTokens);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const auto key = std::make_tuple(shader, weight_type, tokens);
    auto found = pipelines_.find(key);
    if (found != pipelines_.end()) return found->second;

    const DeviceFunctions &fn = device_.fn();
    const Spirv spirv = spirv_of(shader, device_.features());
    VkShaderModuleCreateInfo module_info{};
    module_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    module_info.codeSize = spirv.n_words * sizeof(uint32_t);
    module_info.pCode = spirv.words;
    VkShaderModule module = VK_NULL_HANDLE;
    check(fn.vkCreateShaderModule(device_.handle(), &module_info, nullptr, &module), "vkCreateShaderModule");

    VkComputePipelineCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    info.stage.module = module;
    info.stage.pName = "main";
    // Constant 0: matmul lanes; 1: weight type; 2: tokens per workgroup. Shaders without them ignore them.
    const uint32_t constants[3] = {matmul_lanes_, weight_type, tokens};
    const VkSpecializationMapEntry entries[3] = {
        {0, 0, sizeof(uint32_t)}, {1, sizeof(uint32_t), sizeof(uint32_t)}, {2, 2 * sizeof(uint32_t), sizeof(uint32_t)}};
    VkSpecializationInfo specialization{3, entries, sizeof(constants), constants};
    info.stage.pSpecializationInfo = &specialization;
    info.layout = layout_;
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkResult result = fn.vkCreateComputePipelines(device_.handle(), VK_NULL_HANDLE, 1, &info, nullptr, &pipeline);
    fn.vkDestroyShaderModule(device_.handle(), module, nullptr);
    if (result != VK_SUCCESS) {
        fail(result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY ? BITNET_ERR_OUT_OF_MEMORY
                                                                                              : BITNET_ERR_BACKEND,
             "vulkan: compiling the %s shader on device %d failed: %s", spirv.name, device_.index(), result_name(result));
    }
    pipelines_[key] = pipeline;
    return pipeline;
}

}  // namespace bitnet::vk
