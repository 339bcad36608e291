#include "backend/vulkan/vulkan_device.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "backend/vulkan/vulkan_pipelines.h"
#include "backend/vulkan_traffic.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::vk {
namespace {

// bitnet's device order: real GPUs first (discrete, integrated, virtual), CPU implementations last.
int type_rank(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return 4;
        default: return 3;
    }
}

std::string version_string(uint32_t version) {
    return format("%u.%u.%u", VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version),
                  VK_API_VERSION_PATCH(version));
}

bool env_flag(const char *name) {
    const char *value = std::getenv(name);
    return value && *value && std::strcmp(value, "0") != 0;
}

bool has_device_extension(const InstanceFunctions &fn, VkPhysicalDevice device, const char *name) {
    uint32_t count = 0;
    if (fn.vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr) != VK_SUCCESS) return false;
    std::vector<VkExtensionProperties> extensions(count);
    if (fn.vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data()) != VK_SUCCESS) return false;
    for (const VkExtensionProperties &extension : extensions) {
        if (std::strcmp(extension.extensionName, name) == 0) return true;
    }
    return false;
}

bool has_instance_extension(const Loader &loader, const char *name) {
    uint32_t count = 0;
    if (loader.vkEnumerateInstanceExtensionProperties(nullptr, &count, nullptr) != VK_SUCCESS) return false;
    std::vector<VkExtensionProperties> extensions(count);
    if (loader.vkEnumerateInstanceExtensionProperties(nullptr, &count, extensions.data()) != VK_SUCCESS) return false;
    for (const VkExtensionProperties &extension : extensions) {
        if (std::strcmp(extension.extensionName, name) == 0) return true;
    }
    return false;
}

}  // namespace

const char *device_type_name(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete gpu";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated gpu";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual gpu";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
        default: return "other";
    }
}

// ---------------------------------------------------------------------------------------------
// Instance
// ---------------------------------------------------------------------------------------------

std::shared_ptr<Instance> Instance::acquire() {
    static std::mutex mutex;
    static std::weak_ptr<Instance> current;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto alive = current.lock()) return alive;

    std::string problem;
    const Loader *l = loader(&problem);
    if (!l) fail(BITNET_ERR_UNSUPPORTED, "vulkan: %s", problem.c_str());

    std::shared_ptr<Instance> instance(new Instance());
    uint32_t loader_version = VK_API_VERSION_1_0;
    if (l->vkEnumerateInstanceVersion && l->vkEnumerateInstanceVersion(&loader_version) != VK_SUCCESS) {
        loader_version = VK_API_VERSION_1_0;
    }
    // 1.1 gives maxMemoryAllocationSize; nothing else needs more than 1.0.
    instance->api_version_ = loader_version >= VK_API_VERSION_1_1 ? VK_API_VERSION_1_1 : VK_API_VERSION_1_0;

    VkApplicationInfo application{};
    application.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    application.pApplicationName = "bitnet";
    application.pEngineName = "bitnet";
    application.apiVersion = instance->api_version_;
    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pApplicationInfo = &application;
    // Portability drivers (MoltenVK) are only listed when the instance asks for them.
    const char *portability = "VK_KHR_portability_enumeration";
    if (has_instance_extension(*l, portability)) {
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = &portability;
        info.flags |= 0x00000001;  // VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR (newer headers only)
    }
    VkResult result = l->vkCreateInstance(&info, nullptr, &instance->instance_);
    if (result != VK_SUCCESS) {
        instance->instance_ = VK_NULL_HANDLE;
        fail(BITNET_ERR_UNSUPPORTED, "vulkan: no Vulkan driver could be started (vkCreateInstance: %s)",
             result_name(result));
    }
    instance->fn_.load(*l, instance->instance_);

    const InstanceFunctions &fn = instance->fn_;
    uint32_t count = 0;
    check(fn.vkEnumeratePhysicalDevices(instance->instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> handles(count);
    if (count) check(fn.vkEnumeratePhysicalDevices(instance->instance_, &count, handles.data()), "vkEnumeratePhysicalDevices");
    handles.resize(count);
    for (VkPhysicalDevice handle : handles) {
        Physical physical;
        physical.handle = handle;
        fn.vkGetPhysicalDeviceProperties(handle, &physical.properties);
        uint32_t n_families = 0;
        fn.vkGetPhysicalDeviceQueueFamilyProperties(handle, &n_families, nullptr);
        std::vector<VkQueueFamilyProperties> families(n_families);
        fn.vkGetPhysicalDeviceQueueFamilyProperties(handle, &n_families, families.data());
        bool found = false;
        for (uint32_t i = 0; i < n_families && !found; ++i) {
            if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && families[i].queueCount > 0) {
                physical.queue_family = i;
                found = true;
            }
        }
        if (!found) {
            LOG_DEBUG("vulkan: skipping '%s': no compute queue", physical.properties.deviceName);
            continue;
        }
        instance->devices_.push_back(physical);
    }
    std::stable_sort(instance->devices_.begin(), instance->devices_.end(), [](const Physical &a, const Physical &b) {
        return type_rank(a.properties.deviceType) < type_rank(b.properties.deviceType);
    });
    current = instance;
    return instance;
}

Instance::~Instance() {
    if (instance_ != VK_NULL_HANDLE && fn_.vkDestroyInstance) fn_.vkDestroyInstance(instance_, nullptr);
}

const Probe &probe() {
    static std::once_flag once;
    static Probe *result = nullptr;  // plain data, kept for the process
    std::call_once(once, [] {
        auto *p = new Probe();
        std::string problem;
        p->loader_found = loader(&problem) != nullptr;
        try {
            std::shared_ptr<Instance> instance = Instance::acquire();
            for (const Instance::Physical &physical : instance->devices()) {
                p->devices.push_back({physical.properties.deviceName, physical.properties.deviceType});
            }
            if (p->devices.empty()) p->problem = "vulkan: the Vulkan loader found no device with a compute queue";
        } catch (const Error &error) {
            p->problem = error.what();
        }
        for (size_t i = 0; i < p->devices.size(); ++i) {
            LOG_DEBUG("vulkan: device %zu: %s (%s)", i, p->devices[i].name.c_str(), device_type_name(p->devices[i].type));
        }
        result = p;
    });
    return *result;
}

// ---------------------------------------------------------------------------------------------
// Device
// ---------------------------------------------------------------------------------------------

std::shared_ptr<Device> Device::acquire(int32_t index) {
    static std::mutex mutex;
    static std::map<int32_t, std::weak_ptr<Device>> open;
    std::lock_guard<std::mutex> lock(mutex);
    auto found = open.find(index);
    if (found != open.end()) {
        // A lost or hung device stays with whoever holds it; new users get a fresh VkDevice.
        if (auto alive = found->second.lock(); alive && !alive->lost() && !alive->hung()) return alive;
    }
    std::shared_ptr<Instance> instance = Instance::acquire();
    if (index < 0 || static_cast<size_t>(index) >= instance->devices().size()) {
        fail(BITNET_ERR_UNSUPPORTED, "vulkan: device_index %d does not exist (%zu Vulkan devices)", index,
             instance->devices().size());
    }
    std::shared_ptr<Device> device(new Device());
    device->instance_ = instance;
    device->index_ = index;
    device->create(*instance, instance->devices()[static_cast<size_t>(index)]);
    open[index] = device;
    return device;
}

void Device::create(const Instance &instance, const Instance::Physical &physical) {
    const InstanceFunctions &ifn = instance.fn();
    name_ = physical.properties.deviceName;
    type_ = physical.properties.deviceType;
    queue_family_ = physical.queue_family;

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info{};
    queue_info.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    queue_info.queueFamilyIndex = queue_family_;
    queue_info.queueCount = 1;
    queue_info.pQueuePriorities = &priority;
    VkDeviceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &queue_info;

    // Packed int8 dot products for the ternary matmuls: the extension (core in Vulkan 1.3, but this
    // instance asks for 1.1, so it is enabled as the extension) and its one feature.
    const bool vulkan_1_1 = instance.api_version() >= VK_API_VERSION_1_1 &&
                            physical.properties.apiVersion >= VK_API_VERSION_1_1;
    const char *dot_extension = "VK_KHR_shader_integer_dot_product";
    VkPhysicalDeviceShaderIntegerDotProductFeatures dot_features{};
    dot_features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
    if (vulkan_1_1 && ifn.vkGetPhysicalDeviceFeatures2 && has_device_extension(ifn, physical.handle, dot_extension)) {
        VkPhysicalDeviceFeatures2 features2{};
        features2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
        features2.pNext = &dot_features;
        ifn.vkGetPhysicalDeviceFeatures2(physical.handle, &features2);
        dot_features.pNext = nullptr;
        if (dot_features.shaderIntegerDotProduct && env_flag("BITNET_VULKAN_NO_INTEGER_DOT")) {
            LOG_INFO("vulkan: device %d: integer dot products turned off (BITNET_VULKAN_NO_INTEGER_DOT)", index_);
        } else if (dot_features.shaderIntegerDotProduct) {
            features_.integer_dot = true;
            info.enabledExtensionCount = 1;
            info.ppEnabledExtensionNames = &dot_extension;
            info.pNext = &dot_features;
        }
    }
    VkResult result = ifn.vkCreateDevice(physical.handle, &info, nullptr, &device_);
    if (result != VK_SUCCESS) {
        device_ = VK_NULL_HANDLE;
        check(result, "vkCreateDevice");
    }
    fn_.load(ifn.vkGetDeviceProcAddr, device_);
    fn_.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
    ifn.vkGetPhysicalDeviceMemoryProperties(physical.handle, &memory_);

    const VkPhysicalDeviceLimits &limits = physical.properties.limits;
    limits_.max_buffer_range = limits.maxStorageBufferRange;
    limits_.max_allocation = VkDeviceSize(1) << 30;  // what Vulkan 1.0 drivers reliably allow
    if (instance.api_version() >= VK_API_VERSION_1_1 && physical.properties.apiVersion >= VK_API_VERSION_1_1 &&
        ifn.vkGetPhysicalDeviceProperties2) {
        VkPhysicalDeviceMaintenance3Properties maintenance3{};
        maintenance3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
        VkPhysicalDeviceSubgroupProperties subgroup{};
        subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
        maintenance3.pNext = &subgroup;
        VkPhysicalDeviceShaderIntegerDotProductProperties dot_properties{};
        dot_properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES;
        if (features_.integer_dot) subgroup.pNext = &dot_properties;  // only where the extension exists
        VkPhysicalDeviceProperties2 properties2{};
        properties2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
        properties2.pNext = &maintenance3;
        ifn.vkGetPhysicalDeviceProperties2(physical.handle, &properties2);
        if (maintenance3.maxMemoryAllocationSize > 0) limits_.max_allocation = maintenance3.maxMemoryAllocationSize;
        features_.integer_dot_fast = features_.integer_dot && dot_properties.integerDotProduct4x8BitPackedSignedAccelerated;
        // The matmul shaders' workgroups are 128 invocations: a power-of-two subgroup of at most 128.
        const bool usable_size = subgroup.subgroupSize >= 1 && subgroup.subgroupSize <= 128 &&
                                 (subgroup.subgroupSize & (subgroup.subgroupSize - 1)) == 0;
        if ((subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
            (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) && usable_size) {
            if (env_flag("BITNET_VULKAN_NO_SUBGROUP")) {
                LOG_INFO("vulkan: device %d: subgroup reductions turned off (BITNET_VULKAN_NO_SUBGROUP)", index_);
            } else {
                features_.subgroup_arithmetic = true;
                features_.subgroup_size = subgroup.subgroupSize;
            }
        }
    }
    for (int i = 0; i < 3; ++i) limits_.max_groups[i] = limits.maxComputeWorkGroupCount[i];
    limits_.non_coherent_atom = std::max<VkDeviceSize>(1, limits.nonCoherentAtomSize);

    if (const VkDeviceSize limit = memory_limit()) {
        LOG_INFO("vulkan: device %d: bitnet allocates at most %.0f MiB (BITNET_VULKAN_MEMORY_LIMIT_MIB)", index_,
                 limit / 1048576.0);
    }

    pipelines_ = std::make_unique<Pipelines>(*this);

    VkDeviceSize device_local = 0;
    for (uint32_t i = 0; i < memory_.memoryHeapCount; ++i) {
        if (memory_.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
            device_local = std::max(device_local, memory_.memoryHeaps[i].size);
        }
    }
    LOG_INFO("vulkan: opened device %d: %s (%s, Vulkan %s, %.0f MiB device memory, buffers up to %.0f MiB; "
             "integer dot: %s, subgroup reductions: %s)",
             index_, name_.c_str(), device_type_name(type_), version_string(physical.properties.apiVersion).c_str(),
             device_local / 1048576.0, limits_.max_buffer_range / 1048576.0,
             features_.integer_dot ? (features_.integer_dot_fast ? "yes (accelerated)" : "yes (not accelerated)") : "no",
             features_.subgroup_arithmetic ? "yes" : "no");
    features_summary_ = format("%s%s", features_.integer_dot ? "integer-dot" : "scalar-dot",
                               features_.subgroup_arithmetic ? "+subgroup" : "+shared-memory");
    note_vulkan_matmul_path(features_summary_);
}

Device::~Device() {
    if (hung_) {
        // A submission never finished: destroying what it may still use could crash the driver.
        (void)pipelines_.release();
        LOG_WARN("vulkan: device %d (%s) never finished a submission; its objects are leaked", index_, name_.c_str());
        return;
    }
    pipelines_.reset();
    if (device_ != VK_NULL_HANDLE && fn_.vkDestroyDevice) fn_.vkDestroyDevice(device_, nullptr);
}

int32_t Device::find_memory_type(uint32_t type_bits, VkMemoryPropertyFlags required,
                                 VkMemoryPropertyFlags preferred) const {
    int32_t fallback = -1;
    for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
        if (!(type_bits & (1u << i))) continue;
        const VkMemoryPropertyFlags flags = memory_.memoryTypes[i].propertyFlags;
        if ((flags & required) != required) continue;
        if ((flags & preferred) == preferred) return static_cast<int32_t>(i);
        if (fallback < 0) fallback = static_cast<int32_t>(i);
    }
    return fallback;
}

VkDeviceSize Device::memory_limit() const {
    const char *text = std::getenv("BITNET_VULKAN_MEMORY_LIMIT_MIB");
    if (!text || !*text) return 0;
    char *end = nullptr;
    const unsigned long long mib = std::strtoull(text, &end, 10);
    if (*end || mib == 0 || mib > (1ull << 40)) {
        static std::atomic<bool> warned{false};
        if (!warned.exchange(true)) {
            LOG_WARN("vulkan: ignoring BITNET_VULKAN_MEMORY_LIMIT_MIB='%s' (not a positive number of MiB)", text);
        }
        return 0;
    }
    return static_cast<VkDeviceSize>(mib) << 20;
}

bool Device::reserve_memory(VkDeviceSize bytes) {
    const VkDeviceSize limit = memory_limit();
    VkDeviceSize used = allocated_.load();
    do {
        if (limit && (bytes > limit || used > limit - bytes)) return false;
    } while (!allocated_.compare_exchange_weak(used, used + bytes));
    return true;
}

VkResult Device::submit(VkCommandBuffer commands, VkFence fence) {
    VkSubmitInfo info{};
    info.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    info.commandBufferCount = 1;
    info.pCommandBuffers = &commands;
    std::lock_guard<std::mutex> lock(queue_mutex_);
    return fn_.vkQueueSubmit(queue_, 1, &info, fence);
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

Commands::Commands(Device &device) : device_(device) {
    const DeviceFunctions &fn = device.fn();
    VkCommandPoolCreateInfo pool_info{};
    pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool_info.queueFamilyIndex = device.queue_family();
    check(fn.vkCreateCommandPool(device.handle(), &pool_info, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo allocate{};
    allocate.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    allocate.commandPool = pool_;
    allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    allocate.commandBufferCount = 1;
    VkFenceCreateInfo fence_info{};
    fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    try {
        check(fn.vkAllocateCommandBuffers(device.handle(), &allocate, &buffer_), "vkAllocateCommandBuffers");
        check(fn.vkCreateFence(device.handle(), &fence_info, nullptr, &fence_), "vkCreateFence");
    } catch (...) {
        fn.vkDestroyCommandPool(device.handle(), pool_, nullptr);
        throw;
    }
}

Commands::~Commands() {
    if (device_.hung()) return;
    const DeviceFunctions &fn = device_.fn();
    fn.vkDestroyFence(device_.handle(), fence_, nullptr);
    fn.vkDestroyCommandPool(device_.handle(), pool_, nullptr);
}

VkCommandBuffer Commands::begin() {
    if (device_.lost()) fail(BITNET_ERR_BACKEND, "vulkan: device %d (%s) was lost", device_.index(), device_.name().c_str());
    const DeviceFunctions &fn = device_.fn();
    VkResult result = fn.vkResetCommandBuffer(buffer_, 0);
    if (result != VK_SUCCESS) fail(BITNET_ERR_BACKEND, "vulkan: vkResetCommandBuffer failed: %s", result_name(result));
    VkCommandBufferBeginInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    result = fn.vkBeginCommandBuffer(buffer_, &info);
    if (result != VK_SUCCESS) fail(BITNET_ERR_BACKEND, "vulkan: vkBeginCommandBuffer failed: %s", result_name(result));
    // Everything submitted earlier on the queue (weight uploads, the previous decode, KV cell
    // copies) is complete and visible before this buffer's commands run.
    VkMemoryBarrier barrier{};
    barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                            VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    fn.vkCmdPipelineBarrier(buffer_, stages | VK_PIPELINE_STAGE_HOST_BIT, stages, 0, 1, &barrier, 0, nullptr, 0, nullptr);
    return buffer_;
}

void Commands::submit_and_wait(const char *what, uint64_t timeout_ns) {
    const DeviceFunctions &fn = device_.fn();
    VkResult result = fn.vkEndCommandBuffer(buffer_);
    if (result != VK_SUCCESS) fail(BITNET_ERR_BACKEND, "vulkan: %s: vkEndCommandBuffer failed: %s", what, result_name(result));
    if (device_.lost()) fail(BITNET_ERR_BACKEND, "vulkan: %s: device %d was lost", what, device_.index());
    result = device_.submit(buffer_, fence_);
    count_vulkan_submit();
    if (result == VK_ERROR_DEVICE_LOST) device_.mark_lost();
    if (result != VK_SUCCESS) fail(BITNET_ERR_BACKEND, "vulkan: %s: vkQueueSubmit failed: %s", what, result_name(result));
    result = fn.vkWaitForFences(device_.handle(), 1, &fence_, VK_TRUE, timeout_ns);
    count_vulkan_fence_wait();
    if (result == VK_TIMEOUT) {
        device_.mark_hung();
        fail(BITNET_ERR_BACKEND, "vulkan: %s did not finish within %llu s on device %d (%s); the device is no longer used",
             what, static_cast<unsigned long long>(timeout_ns / 1000000000ull), device_.index(), device_.name().c_str());
    }
    if (result == VK_ERROR_DEVICE_LOST) device_.mark_lost();
    if (result != VK_SUCCESS) fail(BITNET_ERR_BACKEND, "vulkan: %s: vkWaitForFences failed: %s", what, result_name(result));
    result = fn.vkResetFences(device_.handle(), 1, &fence_);
    if (result != VK_SUCCESS) fail(BITNET_ERR_BACKEND, "vulkan: %s: vkResetFences failed: %s", what, result_name(result));
}

}  // namespace bitnet::vk
