#include "backend/vulkan_traffic.h"

#include <atomic>
#include <mutex>

namespace bitnet {
namespace {

std::atomic<uint64_t> submits{0}, fence_waits{0}, host_reads{0};
std::mutex path_mutex;
std::string &last_path() {
    static std::string *path = new std::string();  // never destroyed: devices may close during exit
    return *path;
}

}  // namespace

VulkanTraffic vulkan_traffic() { return {submits.load(), fence_waits.load(), host_reads.load()}; }
void count_vulkan_submit() { ++submits; }
void count_vulkan_fence_wait() { ++fence_waits; }
void count_vulkan_host_read() { ++host_reads; }

std::string vulkan_last_matmul_path() {
    std::lock_guard<std::mutex> lock(path_mutex);
    return last_path();
}

void note_vulkan_matmul_path(const std::string &path) {
    std::lock_guard<std::mutex> lock(path_mutex);
    last_path() = path;
}

}  // namespace bitnet
