// Device buffers (each with its own memory allocation) and the descriptor sets that show them to
// shaders. Every buffer a shader reads is bound whole, as the single storage-buffer binding of
// one descriptor set, so buffers never exceed the device's maxStorageBufferRange.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/vulkan/vulkan_device.h"

namespace bitnet::vk {

enum class MemoryUse {
    Device,    // device-local: weights, activations, the KV cache
    Upload,    // host-visible and coherent: what the host writes for the device
    Readback,  // host-visible, cached where possible: what the host reads back
};

class Buffer {
public:
    Buffer() = default;
    // Throws Error(BITNET_ERR_OUT_OF_MEMORY) when the device has no memory for it, naming `what`.
    Buffer(Device &device, VkDeviceSize size, MemoryUse use, const char *what);
    Buffer(Buffer &&other) noexcept { *this = std::move(other); }
    Buffer &operator=(Buffer &&other) noexcept;
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;
    ~Buffer();

    VkBuffer handle() const { return buffer_; }
    VkDeviceSize size() const { return size_; }
    uint8_t *mapped() const { return mapped_; }  // host-visible buffers only
    // Make device writes visible to the host, and host writes visible to the device (no-ops on
    // coherent memory).
    void invalidate() const;
    void flush() const;

private:
    void release();

    Device *device_ = nullptr;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    VkDeviceSize size_ = 0;
    VkDeviceSize reserved_ = 0;  // counted in the device's memory in use
    uint8_t *mapped_ = nullptr;
    bool coherent_ = true;
};

// A descriptor pool holding one set per buffer, in the shared set layout (pipelines.h).
class DescriptorSets {
public:
    DescriptorSets() = default;
    DescriptorSets(Device &device, const std::vector<const Buffer *> &buffers);
    DescriptorSets(DescriptorSets &&other) noexcept { *this = std::move(other); }
    DescriptorSets &operator=(DescriptorSets &&other) noexcept;
    DescriptorSets(const DescriptorSets &) = delete;
    DescriptorSets &operator=(const DescriptorSets &) = delete;
    ~DescriptorSets();

    VkDescriptorSet operator[](size_t i) const { return sets_[i]; }
    size_t size() const { return sets_.size(); }

private:
    void release();

    Device *device_ = nullptr;
    VkDescriptorPool pool_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorSet> sets_;
};

}  // namespace bitnet::vk
