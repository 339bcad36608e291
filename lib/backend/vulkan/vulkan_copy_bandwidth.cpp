// vulkan_measure.h: the copy benchmark on a device.
#include <algorithm>
#include <chrono>

#include "backend/vulkan/vulkan_device.h"
#include "backend/vulkan/vulkan_memory.h"
#include "backend/vulkan_measure.h"
#include "util/error.h"

namespace bitnet {

double vulkan_copy_bandwidth(int32_t device_index, uint64_t bytes, int repetitions, std::string *problem) {
    constexpr uint32_t kCopiesPerSubmit = 8;  // long enough that the submit's own cost is small
    try {
        using vk::DeviceLimits;
        std::shared_ptr<vk::Device> device = vk::Device::acquire(device_index);
        // Within what one buffer may hold on this device (lavapipe: 128 MiB).
        const DeviceLimits &limits = device->limits();
        bytes = std::min<uint64_t>({bytes, limits.max_buffer_range, limits.max_allocation});
        bytes = std::max<uint64_t>(bytes, 1 << 20) / 4 * 4;
        vk::Buffer source(*device, bytes, vk::MemoryUse::Device, "copy benchmark (source)");
        vk::Buffer target(*device, bytes, vk::MemoryUse::Device, "copy benchmark (target)");
        vk::Commands commands(*device);
        // Touch both buffers first (first-touch costs are not bandwidth).
        VkCommandBuffer cmd = commands.begin();
        device->fn().vkCmdFillBuffer(cmd, source.handle(), 0, VK_WHOLE_SIZE, 0x3f800000u);
        device->fn().vkCmdFillBuffer(cmd, target.handle(), 0, VK_WHOLE_SIZE, 0);
        commands.submit_and_wait("copy benchmark: filling");
        double best_seconds = 0.0;
        for (int r = 0; r < std::max(1, repetitions); ++r) {
            cmd = commands.begin();
            const VkBufferCopy region{0, 0, bytes};
            VkMemoryBarrier barrier{};
            barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
            barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            barrier.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            for (uint32_t c = 0; c < kCopiesPerSubmit; ++c) {
                device->fn().vkCmdCopyBuffer(cmd, source.handle(), target.handle(), 1, &region);
                // Copies into the same buffer are ordered (write after write), as a real stream is.
                device->fn().vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                                  0, 1, &barrier, 0, nullptr, 0, nullptr);
            }
            const auto start = std::chrono::steady_clock::now();
            commands.submit_and_wait("copy benchmark");
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (r == 0 || seconds < best_seconds) best_seconds = seconds;
        }
        return best_seconds > 0 ? 2.0 * double(bytes) * kCopiesPerSubmit / best_seconds : 0.0;
    } catch (const Error &error) {
        if (problem) *problem = error.what();
        return 0.0;
    }
}

}  // namespace bitnet
