// The Vulkan backend: the op set recorded into one command buffer per decode (pipeline barriers
// only where a dispatch reads or overwrites what an earlier one wrote), one submit and one fence
// wait in end(), then the logits are copied from a host-visible buffer. Device memory is
// allocated at creation: the work buffer (activations of n_batch tokens, int8 codes, per-decode
// metadata), the KV cache (one buffer per layer), the upload and readback buffers; the weights
// are shared per (model, device) (vulkan_weights.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/vulkan/vulkan_device.h"
#include "backend/vulkan/vulkan_memory.h"
#include "backend/vulkan/vulkan_pipelines.h"
#include "backend/vulkan/vulkan_weights.h"
#include "model/model.h"
#include "runtime/arena.h"
#include "runtime/backend.h"
#include "runtime/kv_cache.h"

namespace bitnet {

struct VulkanBackendConfig {
    int32_t n_batch = 0;
    int32_t n_outputs_max = 0;
    bool quantize_activations = true;
    bool keep_embeddings = false;
    int32_t device_index = 0;
};

class VulkanBackend final : public Backend {
public:
    VulkanBackend(const bitnet_model &model, const VulkanBackendConfig &config, KvCache &kv, Arena &arena);
    ~VulkanBackend() override;

    std::string name() const override { return name_; }
    void set_outputs(const OutputBuffers &outputs) override { outputs_ = outputs; }
    size_t kv_cell_bytes() const override;
    void read_kv_cells(const int32_t *cells, int32_t n_cells, uint8_t *out) override;
    void write_kv_cells(const int32_t *cells, int32_t n_cells, const uint8_t *in) override;
    void rotate_keys(const int32_t *cells, const int32_t *deltas, int32_t n_cells) override;

    void begin(const BatchPlan &plan) override;
    void embed(const Weight &token_embd) override;
    void rms_norm(Act in, const Weight &weight, Act out) override;
    void project(const Weight &weight, Act in, Act out) override;
    void rope(Act buffer, int32_t n_heads) override;
    void attention(int32_t layer) override;
    void gated_activation(FfnActivation activation) override;
    void add(Act into, Act from) override;
    void output(const Weight &lm_head, Act normed) override;
    void end() override;

private:
    // Word offsets of everything in the work buffer. The metadata block is mirrored at the start
    // of the upload buffer (token ids, positions, masks, cells, RoPE table). Activation rows are padded to
    // a multiple of 128 values with zeros that no shader ever overwrites (elementwise shaders map
    // zeros to zeros), so the matmul shaders read whole units past a row's end without checks.
    struct Layout {
        std::array<uint32_t, static_cast<size_t>(Act::Count)> act{};
        std::array<uint32_t, static_cast<size_t>(Act::Count)> width{};   // values per row
        std::array<uint32_t, static_cast<size_t>(Act::Count)> stride{};  // words between rows
        uint32_t codes = 0, codes_stride = 0, act_scales = 0;
        uint32_t meta = 0, meta_words = 0;
        // Within the metadata block.
        uint32_t tokens = 0, token_pos = 0, token_mask = 0, token_cell = 0, outputs = 0, rope = 0, cell_pos = 0, cell_mask = 0;
        uint64_t words = 0;
        uint64_t upload_bytes = 0;  // the upload buffer: the metadata block
        uint64_t readback_embeddings = 0;  // byte offset in the readback buffer
    };
    // What a dispatch or copy touches, for placing barriers.
    enum Region : uint32_t { kCodes = 1u << 9, kMeta = 1u << 10, kCache = 1u << 11, kLogits = 1u << 12, kHidden = 1u << 13 };
    static uint32_t region(Act act) { return 1u << static_cast<uint32_t>(act); }

    void compute_layout();
    void create_device_objects();
    void sync(uint32_t reads, uint32_t writes);
    template <class Params>
    void dispatch(VkPipeline pipeline, const Params &params, VkDescriptorSet set1, VkDescriptorSet set2,
                  uint32_t groups_x, uint32_t groups_y);
    template <class Params>
    void dispatch(vk::Shader shader, const Params &params, VkDescriptorSet set1, VkDescriptorSet set2, uint32_t groups_x,
                  uint32_t groups_y) {
        dispatch(pipelines_[static_cast<size_t>(shader)], params, set1, set2, groups_x, groups_y);
    }
    template <class Params>
    void dispatch_flat(vk::Shader shader, const Params &params, VkDescriptorSet set1, uint64_t invocations,
                       uint32_t group_size);
    void quantize_input(Act in);
    void project_ternary_a8(const Weight &weight, Act in, Act out);
    void project_float(const Weight &weight, Act in, Act out, bool lm_head);
    void host_barrier(VkCommandBuffer cmd) const;
    uint32_t act_word(Act act) const { return layout_.act[static_cast<size_t>(act)]; }
    uint32_t act_width(Act act) const { return layout_.width[static_cast<size_t>(act)]; }
    uint32_t act_stride(Act act) const { return layout_.stride[static_cast<size_t>(act)]; }

    const bitnet_model &model_;
    VulkanBackendConfig config_;
    KvCache &kv_;
    std::string name_;
    OutputBuffers outputs_;
    const BatchPlan *plan_ = nullptr;
    Layout layout_;
    std::vector<double> rope_inv_freq_;  // [n_rot / 2]
    VkBufferCopy *copy_regions_ = nullptr;  // from the arena: n_outputs_max + 8 (null when measuring)

    // Declared first so that they are destroyed last.
    std::shared_ptr<vk::Device> device_;
    std::shared_ptr<vk::DeviceWeights> weights_;
    vk::Buffer work_, upload_, readback_, staging_;
    std::vector<vk::Buffer> cache_;   // per layer: keys [n_ctx][n_embd_kv], then values
    vk::DescriptorSets sets_;         // work, readback, then each layer's cache
    std::unique_ptr<vk::Commands> commands_;
    std::array<VkPipeline, static_cast<size_t>(vk::Shader::Count)> pipelines_{};
    // The float matmul and lm_head pipelines, by weight type id (engine TensorType values < 64).
    std::array<VkPipeline, 64> float_pipelines_{}, lm_head_pipelines_{};
    std::array<VkPipeline, kTernaryLayoutCount> matvec_pipelines_{};  // by TernaryLayout
    VkPipeline embed_pipeline_ = VK_NULL_HANDLE;  // for the token embedding's device type
    VkPipelineLayout pipeline_layout_ = VK_NULL_HANDLE;

    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkPipeline bound_pipeline_ = VK_NULL_HANDLE;
    uint32_t dirty_reads_ = 0, dirty_writes_ = 0;
    std::array<uint64_t, static_cast<size_t>(Act::Count)> versions_{};
    int quantized_source_ = -1;
    uint64_t quantized_version_ = 0;
};

}  // namespace bitnet
