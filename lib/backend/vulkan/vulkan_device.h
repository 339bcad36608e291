// Vulkan instances and devices: finding the devices, opening one, and running work on its queue.
//
// Devices are numbered in bitnet's own order, best first: discrete GPUs, integrated GPUs, virtual
// GPUs, other devices, then CPU implementations (lavapipe), keeping the loader's order within a
// kind. `device_index` in bitnet_context_params counts in this order.
//
// A VkDevice is shared by every context that asks for the same device (the weights uploaded for
// a model are device objects, and contexts share them); it is destroyed when the last context and
// the last model with weights on it are gone.
//
// BITNET_VULKAN_MEMORY_LIMIT_MIB=N (read at each allocation) caps the memory bitnet allocates
// through each device at N MiB (every buffer: weights, activations, KV cache, and the host-visible
// upload, readback and staging buffers): an allocation beyond it fails with
// BITNET_ERR_OUT_OF_MEMORY exactly as when the device is full. For sharing a device with other
// programs, and for tests: CPU implementations (lavapipe) never run out of device memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/vulkan/vulkan_loader.h"

namespace bitnet::vk {

class Pipelines;

// "discrete gpu", "integrated gpu", "virtual gpu", "cpu", "other".
const char *device_type_name(VkPhysicalDeviceType type);
// Real GPUs; what BITNET_BACKEND_AUTO may choose (never a CPU implementation such as lavapipe).
inline bool is_gpu(VkPhysicalDeviceType type) {
    return type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU || type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
           type == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU;
}

struct DeviceInfo {
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
};

struct Probe {
    bool loader_found = false;
    std::string problem;              // why there are no devices; "" when there are
    std::vector<DeviceInfo> devices;  // usable devices in bitnet's order
};

// The devices of this machine, looked up once per process (thread-safe).
const Probe &probe();

// A VkInstance and its usable physical devices in bitnet's order.
class Instance {
public:
    struct Physical {
        VkPhysicalDevice handle = VK_NULL_HANDLE;
        VkPhysicalDeviceProperties properties{};
        uint32_t queue_family = 0;  // the first family with compute
    };

    // The process's instance while anything holds it; created on demand. Throws
    // Error(BITNET_ERR_UNSUPPORTED) when there is no loader or no instance can be created.
    static std::shared_ptr<Instance> acquire();
    ~Instance();
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;

    VkInstance handle() const { return instance_; }
    const InstanceFunctions &fn() const { return fn_; }
    uint32_t api_version() const { return api_version_; }
    const std::vector<Physical> &devices() const { return devices_; }

private:
    Instance() = default;
    VkInstance instance_ = VK_NULL_HANDLE;
    InstanceFunctions fn_{};
    uint32_t api_version_ = VK_API_VERSION_1_0;
    std::vector<Physical> devices_;
};

struct DeviceLimits {
    VkDeviceSize max_buffer_range = 0;  // the largest buffer one descriptor can see
    VkDeviceSize max_allocation = 0;    // the largest single memory allocation
    uint32_t max_groups[3] = {0, 0, 0};
    VkDeviceSize non_coherent_atom = 1;
};

// Optional shader features the ternary matmuls use where the device has them (vulkan_pipelines.h
// picks the SPIR-V variant). The environment can turn each off, so that the portable paths are
// tested on devices that have the features: BITNET_VULKAN_NO_INTEGER_DOT=1, BITNET_VULKAN_NO_SUBGROUP=1.
struct DeviceFeatures {
    bool integer_dot = false;          // VK_KHR_shader_integer_dot_product, enabled on the device
    bool integer_dot_fast = false;     // ... and 4x8-bit packed signed dot products are accelerated
    bool subgroup_arithmetic = false;  // subgroup arithmetic in compute shaders (Vulkan 1.1)
    uint32_t subgroup_size = 0;        // reported (a device may run other sizes; the shaders check)
};

class Device {
public:
    // The shared device `index` (bitnet's order). Throws UNSUPPORTED for an index that does not
    // exist, OUT_OF_MEMORY or BACKEND when the device cannot be created.
    static std::shared_ptr<Device> acquire(int32_t index);
    ~Device();
    Device(const Device &) = delete;
    Device &operator=(const Device &) = delete;

    VkDevice handle() const { return device_; }
    const DeviceFunctions &fn() const { return fn_; }
    int32_t index() const { return index_; }
    const std::string &name() const { return name_; }
    VkPhysicalDeviceType type() const { return type_; }
    const DeviceLimits &limits() const { return limits_; }
    const DeviceFeatures &features() const { return features_; }
    // The ternary matmul path in use, e.g. "integer-dot+subgroup" or "scalar-dot+shared-memory".
    const std::string &matmul_path() const { return features_summary_; }
    uint32_t queue_family() const { return queue_family_; }
    Pipelines &pipelines() const { return *pipelines_; }

    // The memory type for a buffer allowed in `type_bits` that has every `required` flag,
    // preferring one with every `preferred` flag too; -1 if none.
    int32_t find_memory_type(uint32_t type_bits, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) const;
    VkMemoryPropertyFlags memory_flags(uint32_t type) const { return memory_.memoryTypes[type].propertyFlags; }

    // Account for `bytes` of device memory about to be allocated; false when that would pass
    // BITNET_VULKAN_MEMORY_LIMIT_MIB. release_memory() gives it back.
    bool reserve_memory(VkDeviceSize bytes);
    void release_memory(VkDeviceSize bytes) { allocated_ -= bytes; }
    VkDeviceSize memory_in_use() const { return allocated_; }
    // BITNET_VULKAN_MEMORY_LIMIT_MIB in bytes; 0 when unset (no limit but the device's).
    VkDeviceSize memory_limit() const;

    // Submit one command buffer (the queue is shared, so this locks it).
    VkResult submit(VkCommandBuffer commands, VkFence fence);

    // Set when a submission never finished: nothing of this device may be destroyed any more, since
    // the device may still be using it, so from then on its objects are leaked instead.
    void mark_hung() { hung_ = true; }
    bool hung() const { return hung_; }
    // Set when the device reported VK_ERROR_DEVICE_LOST: every later submission fails.
    void mark_lost() { lost_ = true; }
    bool lost() const { return lost_; }

private:
    Device() = default;
    void create(const Instance &instance, const Instance::Physical &physical);

    std::shared_ptr<Instance> instance_;
    VkDevice device_ = VK_NULL_HANDLE;
    DeviceFunctions fn_{};
    VkQueue queue_ = VK_NULL_HANDLE;
    std::mutex queue_mutex_;
    uint32_t queue_family_ = 0;
    int32_t index_ = 0;
    std::string name_;
    VkPhysicalDeviceType type_ = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    DeviceLimits limits_;
    DeviceFeatures features_;
    std::string features_summary_;
    VkPhysicalDeviceMemoryProperties memory_{};
    std::unique_ptr<Pipelines> pipelines_;
    std::atomic<VkDeviceSize> allocated_{0};
    std::atomic<bool> hung_{false};
    std::atomic<bool> lost_{false};
};

// How long a submission may run before the backend gives up on it (BITNET_ERR_BACKEND) and
// stops using the device: a backstop for a device that never answers (GPU drivers report real
// hangs as VK_ERROR_DEVICE_LOST sooner). A decode adds time per token of its batch.
constexpr uint64_t kSubmitTimeoutNanoseconds = 60ull * 1000 * 1000 * 1000;

// One command buffer with its pool and fence: record, submit, wait (with the timeout).
class Commands {
public:
    explicit Commands(Device &device);
    ~Commands();
    Commands(const Commands &) = delete;
    Commands &operator=(const Commands &) = delete;

    // Reset (even from the recording state an aborted decode leaves) and begin recording.
    VkCommandBuffer begin();
    VkCommandBuffer buffer() const { return buffer_; }
    // End, submit and wait. Throws Error(BITNET_ERR_BACKEND) when the device is lost, the submit
    // fails or the work does not finish within `timeout_ns`.
    void submit_and_wait(const char *what, uint64_t timeout_ns = kSubmitTimeoutNanoseconds);

private:
    Device &device_;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer buffer_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
};

}  // namespace bitnet::vk
