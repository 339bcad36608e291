// A model's weights on a device, uploaded once and shared by every context of that model on that
// device. A process-wide registry keyed by (model, device) hands out references; the weights are
// freed with the last context that uses them (contexts are freed before their model).
//
// What is uploaded, byte for byte as the model holds it: every norm vector (F32), every projection
// (I2_S codes without the scale tail, whose scale travels in push constants; TQ2_0 and TQ1_0 blocks;
// F32/F16/BF16 for llama files) and the lm_head in its stored type (F32, F16, BF16, Q8_0, Q6_K or
// Q4_0), which the shaders decode. The token embedding is not uploaded: its rows are looked up on
// the host at each decode (when the lm_head is tied to it, the lm_head upload is the same bytes).
// Device memory used is therefore the model's weight bytes, with no conversion.
//
// Tensors are packed into pages (buffers) no larger than the device lets one descriptor see; a
// tensor larger than a page (a big lm_head on a device with a small maxStorageBufferRange) is cut
// into row ranges in several pages.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "backend/vulkan/vulkan_memory.h"
#include "model/model.h"

namespace bitnet::vk {

struct TensorPiece {
    uint32_t page = 0;
    uint32_t byte_offset = 0;  // of the piece's first row in the page
    uint64_t first_row = 0;
    uint64_t n_rows = 0;
};

struct DeviceTensor {
    uint64_t row_bytes = 0;
    std::vector<TensorPiece> pieces;
};

class DeviceWeights {
public:
    // The weights of `model` on `device`, uploading them when no context holds them yet.
    static std::shared_ptr<DeviceWeights> acquire(const std::shared_ptr<Device> &device, const bitnet_model &model);
    ~DeviceWeights();

    // The uploaded form of a model weight; throws Error(BITNET_ERR_INTERNAL) for one never uploaded.
    const DeviceTensor &find(const Weight &weight) const;
    VkDescriptorSet page_set(uint32_t page) const { return sets_[page]; }
    uint64_t bytes() const { return bytes_; }

private:
    DeviceWeights() = default;
    void upload(const bitnet_model &model);

    std::shared_ptr<Device> device_;
    std::vector<Buffer> pages_;
    DescriptorSets sets_;
    std::unordered_map<const uint8_t *, DeviceTensor> tensors_;  // by the weight's data pointer
    uint64_t bytes_ = 0;
};

}  // namespace bitnet::vk
