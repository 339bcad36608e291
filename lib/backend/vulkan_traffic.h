// Counters of the Vulkan backend's traffic between host and device, process-wide, for tests that
// check a decode step's round trips (tests/test_vulkan_traffic.cpp): not part of the public API.
// Compiled in every build (zeros without Vulkan), so tests need no Vulkan headers.
#pragma once

#include <cstdint>
#include <string>

namespace bitnet {

struct VulkanTraffic {
    uint64_t submits = 0;      // vkQueueSubmit calls
    uint64_t fence_waits = 0;  // waits of the host for a fence
    uint64_t host_reads = 0;   // reads by the host of a host-visible buffer the device wrote
};

VulkanTraffic vulkan_traffic();
void count_vulkan_submit();
void count_vulkan_fence_wait();
void count_vulkan_host_read();

// The ternary matmul path of the device opened last ("integer-dot+subgroup", ...; "" before any).
std::string vulkan_last_matmul_path();
void note_vulkan_matmul_path(const std::string &path);

}  // namespace bitnet
