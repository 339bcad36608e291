// A model's weights on a device, uploaded once and shared by every context of that model on that
// device. A registry on the Vulkan side (vulkan_weights.cpp), keyed by the model's load_id, keeps
// them until bitnet_model_free(), so contexts made one after another find them uploaded; each
// context holds a reference too, so they are freed with the model or its last context, whichever
// goes last. The model itself holds nothing of the backend.
// Lifetimes: DeviceWeights holds its Device, which holds the Instance, so the buffers are freed
// before the VkDevice and the VkInstance; the loader is never closed. Creating contexts of one
// model from several threads is safe: the model's registry entry is locked during an upload, so
// the other threads wait for it and share the result.
//
// What is uploaded, byte for byte as the model holds it: every norm vector (F32), every projection
// (I2_S codes without the scale tail, whose scale travels in push constants; TQ2_0 and TQ1_0 blocks;
// F32/F16/BF16 for llama files) and the lm_head in its stored type (F32, F16, BF16, Q8_0, Q6_K or
// Q4_0), which the shaders decode, and the token embedding, whose rows embed.comp looks up on the
// device (when the lm_head is tied to it, as in BitNet b1.58 2B-4T, both are the same upload).
// Device memory used is therefore the model's weight bytes, with no conversion, except for the
// quantizer fallback types (Q4_1, Q5_0, Q5_1, Q2_K..Q5_K, IQ4_NL: float_kernel false in their traits
// row), which no shader decodes: their rows are dequantized on the host by the type's block decoder
// and uploaded as F32, the same decoding as the CPU's row-dequantizing path, at 4 bytes per weight
// instead of 0.3 to 0.9 (e.g. 26 layers of an 8640 x 3200 Q5_0 ffn_down: 2.9 GB instead of 0.5 GB).
//
// Tensors are packed into pages (buffers) no larger than the device lets one descriptor see; a
// tensor larger than a page (a big lm_head on a device with a small maxStorageBufferRange) is cut
// into row ranges in several pages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
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

// The type a weight has on the device: its stored type, or F32 for a type no shader decodes.
TensorType device_type(TensorType stored);

struct DeviceTensor {
    TensorType type = TensorType::F32;  // device_type() of the weight
    uint64_t row_bytes = 0;
    std::vector<TensorPiece> pieces;
};

class DeviceWeights {
public:
    // The weights of `model` on `device`, uploading them the first time this model asks for this
    // device (once per model and device; logged at INFO as "vulkan: uploaded the weights of ...").
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
    std::string model_name_;  // for the log
    std::vector<Buffer> pages_;
    DescriptorSets sets_;
    std::unordered_map<const uint8_t *, DeviceTensor> tensors_;  // by the weight's data pointer
    uint64_t bytes_ = 0;
};

}  // namespace bitnet::vk
