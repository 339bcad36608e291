#include "backend/vulkan/vulkan_memory.h"

#include <algorithm>
#include <utility>

#include "backend/vulkan/vulkan_pipelines.h"
#include "util/error.h"

namespace bitnet::vk {

Buffer::Buffer(Device &device, VkDeviceSize size, MemoryUse use, const char *what) : device_(&device) {
    const DeviceFunctions &fn = device.fn();
    size_ = size;
    if (size > device.limits().max_buffer_range || size > device.limits().max_allocation) {
        fail(BITNET_ERR_OUT_OF_MEMORY,
             "vulkan: %s needs a buffer of %.1f MiB; device %d (%s) allows at most %.1f MiB per buffer", what,
             size / 1048576.0, device.index(), device.name().c_str(),
             std::min(device.limits().max_buffer_range, device.limits().max_allocation) / 1048576.0);
    }
    VkBufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = std::max<VkDeviceSize>(size, 16);
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkResult result = fn.vkCreateBuffer(device.handle(), &info, nullptr, &buffer_);
    if (result != VK_SUCCESS) {
        buffer_ = VK_NULL_HANDLE;
        fail(result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY ? BITNET_ERR_OUT_OF_MEMORY
                                                                                              : BITNET_ERR_BACKEND,
             "vulkan: creating the %s buffer (%.1f MiB) failed: %s", what, size / 1048576.0, result_name(result));
    }
    VkMemoryRequirements requirements;
    fn.vkGetBufferMemoryRequirements(device.handle(), buffer_, &requirements);

    VkMemoryPropertyFlags required = 0, preferred = 0;
    switch (use) {
        case MemoryUse::Device: preferred = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT; break;
        case MemoryUse::Upload: required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT; break;
        case MemoryUse::Readback:
            required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
            preferred = VK_MEMORY_PROPERTY_HOST_CACHED_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
            break;
    }
    int32_t type = device.find_memory_type(requirements.memoryTypeBits, required, preferred);
    if (use == MemoryUse::Readback && type >= 0 && !(device.memory_flags(type) & VK_MEMORY_PROPERTY_HOST_CACHED_BIT)) {
        // Uncached reads are slow; any cached type beats a coherent uncached one.
        int32_t cached = device.find_memory_type(requirements.memoryTypeBits,
                                                 required | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (cached >= 0) type = cached;
    }
    if (type < 0) {
        release();
        fail(BITNET_ERR_BACKEND, "vulkan: device %d has no memory type for the %s buffer", device.index(), what);
    }
    if (!device.reserve_memory(requirements.size)) {
        release();
        fail(BITNET_ERR_OUT_OF_MEMORY,
             "vulkan: device %d (%s) has no memory left for the %s buffer (%.1f MiB): bitnet already uses %.1f MiB "
             "of the %.1f MiB that BITNET_VULKAN_MEMORY_LIMIT_MIB allows",
             device.index(), device.name().c_str(), what, requirements.size / 1048576.0,
             device.memory_in_use() / 1048576.0, device.memory_limit() / 1048576.0);
    }
    reserved_ = requirements.size;
    VkMemoryAllocateInfo allocate{};
    allocate.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    allocate.allocationSize = requirements.size;
    allocate.memoryTypeIndex = static_cast<uint32_t>(type);
    result = fn.vkAllocateMemory(device.handle(), &allocate, nullptr, &memory_);
    if (result != VK_SUCCESS) {
        memory_ = VK_NULL_HANDLE;
        release();
        fail(result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY ? BITNET_ERR_OUT_OF_MEMORY
                                                                                              : BITNET_ERR_BACKEND,
             "vulkan: device %d (%s) could not allocate %.1f MiB for the %s buffer (bitnet already uses %.1f MiB of it): %s",
             device.index(), device.name().c_str(), requirements.size / 1048576.0, what,
             device.memory_in_use() / 1048576.0, result_name(result));
    }
    result = fn.vkBindBufferMemory(device.handle(), buffer_, memory_, 0);
    if (result != VK_SUCCESS) {
        release();
        check(result, "vkBindBufferMemory");
    }
    if (use != MemoryUse::Device) {
        coherent_ = (device.memory_flags(type) & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
        void *pointer = nullptr;
        result = fn.vkMapMemory(device.handle(), memory_, 0, VK_WHOLE_SIZE, 0, &pointer);
        if (result != VK_SUCCESS) {
            release();
            fail(BITNET_ERR_OUT_OF_MEMORY, "vulkan: mapping the %s buffer failed: %s", what, result_name(result));
        }
        mapped_ = static_cast<uint8_t *>(pointer);
    }
}

Buffer &Buffer::operator=(Buffer &&other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
        memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
        size_ = std::exchange(other.size_, 0);
        reserved_ = std::exchange(other.reserved_, 0);
        mapped_ = std::exchange(other.mapped_, nullptr);
        coherent_ = other.coherent_;
    }
    return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() {
    if (!device_ || device_->hung()) return;
    const DeviceFunctions &fn = device_->fn();
    if (buffer_ != VK_NULL_HANDLE) fn.vkDestroyBuffer(device_->handle(), buffer_, nullptr);
    if (memory_ != VK_NULL_HANDLE) {
        if (mapped_) fn.vkUnmapMemory(device_->handle(), memory_);
        fn.vkFreeMemory(device_->handle(), memory_, nullptr);
    }
    device_->release_memory(reserved_);
    buffer_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
    mapped_ = nullptr;
    reserved_ = 0;
}

void Buffer::invalidate() const {
    if (coherent_ || !mapped_) return;
    VkMappedMemoryRange range{};
    range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
    range.memory = memory_;
    range.offset = 0;
    range.size = VK_WHOLE_SIZE;
    check(device_->fn().vkInvalidateMappedMemoryRanges(device_->handle(), 1, &range), "vkInvalidateMappedMemoryRanges");
}

void Buffer::flush() const {
    if (coherent_ || !mapped_) return;
    VkMappedMemoryRange range{};
    range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
    range.memory = memory_;
    range.offset = 0;
    range.size = VK_WHOLE_SIZE;
    check(device_->fn().vkFlushMappedMemoryRanges(device_->handle(), 1, &range), "vkFlushMappedMemoryRanges");
}

DescriptorSets::DescriptorSets(Device &device, const std::vector<const Buffer *> &buffers) : device_(&device) {
    const DeviceFunctions &fn = device.fn();
    const uint32_t n = static_cast<uint32_t>(buffers.size());
    if (n == 0) return;
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, n};
    VkDescriptorPoolCreateInfo pool_info{};
    pool_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    pool_info.maxSets = n;
    pool_info.poolSizeCount = 1;
    pool_info.pPoolSizes = &size;
    check(fn.vkCreateDescriptorPool(device.handle(), &pool_info, nullptr, &pool_), "vkCreateDescriptorPool");

    std::vector<VkDescriptorSetLayout> layouts(n, device.pipelines().set_layout());
    VkDescriptorSetAllocateInfo allocate{};
    allocate.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    allocate.descriptorPool = pool_;
    allocate.descriptorSetCount = n;
    allocate.pSetLayouts = layouts.data();
    sets_.resize(n);
    VkResult result = fn.vkAllocateDescriptorSets(device.handle(), &allocate, sets_.data());
    if (result != VK_SUCCESS) {
        sets_.clear();
        release();
        check(result, "vkAllocateDescriptorSets");
    }
    std::vector<VkDescriptorBufferInfo> infos(n);
    std::vector<VkWriteDescriptorSet> writes(n);
    for (uint32_t i = 0; i < n; ++i) {
        infos[i] = {buffers[i]->handle(), 0, VK_WHOLE_SIZE};
        writes[i] = {};
        writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        writes[i].dstSet = sets_[i];
        writes[i].dstBinding = 0;
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    fn.vkUpdateDescriptorSets(device.handle(), n, writes.data(), 0, nullptr);
}

DescriptorSets &DescriptorSets::operator=(DescriptorSets &&other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        pool_ = std::exchange(other.pool_, VK_NULL_HANDLE);
        sets_ = std::move(other.sets_);
    }
    return *this;
}

DescriptorSets::~DescriptorSets() { release(); }

void DescriptorSets::release() {
    if (!device_ || device_->hung() || pool_ == VK_NULL_HANDLE) return;
    device_->fn().vkDestroyDescriptorPool(device_->handle(), pool_, nullptr);
    pool_ = VK_NULL_HANDLE;
}

}  // namespace bitnet::vk
