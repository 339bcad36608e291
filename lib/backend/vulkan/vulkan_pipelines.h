// The compute pipelines of the shaders in shaders/*.comp (SPIR-V embedded at build time). They all
// share one pipeline layout: three descriptor sets of one storage buffer each (set 0: the
// context's work buffer, set 1: a weight page or a layer's KV cache, set 2: the readback buffer)
// and 128 bytes of push constants for shapes and offsets.
#pragma once

#include <map>
#include <tuple>
#include <mutex>
#include <utility>

#include "backend/vulkan/vulkan_device.h"
#include "tensor/tensor_type.h"

namespace bitnet::vk {

enum class Shader : int {
    Quantize,         // per-token absmax int8 activations
    MatmulI2S,        // ternary weights x int8 activations, one kernel per ternary format
    MatmulTQ2,
    MatmulTQ1,
    MatmulFloat,      // any weight type x float activations
    LmHead,           // the same into the readback buffer, for the batch's output entries
    Embed,            // token embedding rows (any embedding type), per weight type like MatmulFloat
    RmsNorm,
    Rope,
    KvStore,
    RopeShift,        // rotate cached keys by position deltas (context shift)
    Attention,
    GatedActivation,
    Add,
    Count
};

// The ternary × int8 matmul shader of each ternary layout (tensor/tensor_type.h), the Vulkan
// counterpart of KernelTable::gemm_ternary.
inline constexpr Shader kTernaryShaders[] = {Shader::MatmulI2S, Shader::MatmulTQ2, Shader::MatmulTQ1};
static_assert(sizeof kTernaryShaders / sizeof kTernaryShaders[0] == kTernaryLayoutCount,
              "every ternary layout needs its matmul shader here");
inline Shader ternary_shader(TernaryLayout layout) { return kTernaryShaders[static_cast<size_t>(layout)]; }

class Pipelines {
public:
    static constexpr uint32_t kSets = 3;
    static constexpr uint32_t kPushConstantBytes = 128;  // the minimum every device offers

    explicit Pipelines(Device &device);
    ~Pipelines();
    Pipelines(const Pipelines &) = delete;
    Pipelines &operator=(const Pipelines &) = delete;

    VkDescriptorSetLayout set_layout() const { return set_layout_; }
    VkPipelineLayout layout() const { return layout_; }
    // Invocations per weight row in the matmul shaders (their specialization constant 0): 32 on
    // GPUs; 8 on CPU implementations, where each workgroup costs more and wide rows less.
    uint32_t matmul_lanes() const { return matmul_lanes_; }
    // The pipeline of `shader`, compiled on first use (thread-safe). Throws on failure. The float
    // matmul shaders are compiled per weight type (their specialization constant 1); the ternary
    // matmuls per tokens per workgroup (constant 2: 1 for the mat-vec pipeline of a decode step,
    // MATMUL_TOKENS for the mat-mat one), from the SPIR-V variant the device's features allow
    // (integer dot products, subgroup reductions; Device::features()).
    VkPipeline get(Shader shader, uint32_t weight_type = 0, uint32_t tokens = kMatmulTokens);
    static constexpr uint32_t kMatmulTokens = 8;  // shader::MATMUL_TOKENS (checked in the .cpp)

private:
    Device &device_;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    uint32_t matmul_lanes_ = 32;
    std::mutex mutex_;
    std::map<std::tuple<Shader, uint32_t, uint32_t>, VkPipeline> pipelines_;
};

}  // namespace bitnet::vk
