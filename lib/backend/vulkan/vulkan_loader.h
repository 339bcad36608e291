// The Vulkan loader, opened at run time: libvulkan is dlopen()ed on first use, so the library
// links and runs on machines without it. Function pointers come from vkGetInstanceProcAddr and
// vkGetDeviceProcAddr into small dispatch tables (the build defines VK_NO_PROTOTYPES).
//
// BITNET_VULKAN_LOADER=PATH, read once when the loader is first needed, makes bitnet dlopen()
// exactly PATH instead of libvulkan.so.1 / libvulkan.so (libvulkan.1.dylib ... on macOS): a
// loader outside the library search path, or, with a path that does not exist, a process that
// behaves as on a machine without any Vulkan loader (tests/test_vulkan.cpp uses it so).
#pragma once

#include <vulkan/vulkan.h>

#include <string>

namespace bitnet::vk {

// Functions loaded before an instance exists.
#define BITNET_VK_GLOBAL_FUNCTIONS(X) \
    X(vkCreateInstance)               \
    X(vkEnumerateInstanceExtensionProperties)

// Functions of an instance.
#define BITNET_VK_INSTANCE_FUNCTIONS(X)          \
    X(vkDestroyInstance)                         \
    X(vkEnumeratePhysicalDevices)                \
    X(vkGetPhysicalDeviceProperties)             \
    X(vkGetPhysicalDeviceMemoryProperties)       \
    X(vkGetPhysicalDeviceQueueFamilyProperties)  \
    X(vkCreateDevice)                            \
    X(vkEnumerateDeviceExtensionProperties)      \
    X(vkGetDeviceProcAddr)

// Functions of a device.
#define BITNET_VK_DEVICE_FUNCTIONS(X)     \
    X(vkDestroyDevice)                    \
    X(vkGetDeviceQueue)                   \
    X(vkDeviceWaitIdle)                   \
    X(vkCreateBuffer)                     \
    X(vkDestroyBuffer)                    \
    X(vkGetBufferMemoryRequirements)      \
    X(vkAllocateMemory)                   \
    X(vkFreeMemory)                       \
    X(vkBindBufferMemory)                 \
    X(vkMapMemory)                        \
    X(vkUnmapMemory)                      \
    X(vkInvalidateMappedMemoryRanges)     \
    X(vkFlushMappedMemoryRanges)          \
    X(vkCreateShaderModule)               \
    X(vkDestroyShaderModule)              \
    X(vkCreateDescriptorSetLayout)        \
    X(vkDestroyDescriptorSetLayout)       \
    X(vkCreatePipelineLayout)             \
    X(vkDestroyPipelineLayout)            \
    X(vkCreateComputePipelines)           \
    X(vkDestroyPipeline)                  \
    X(vkCreateDescriptorPool)             \
    X(vkDestroyDescriptorPool)            \
    X(vkAllocateDescriptorSets)           \
    X(vkUpdateDescriptorSets)             \
    X(vkCreateCommandPool)                \
    X(vkDestroyCommandPool)               \
    X(vkAllocateCommandBuffers)           \
    X(vkBeginCommandBuffer)               \
    X(vkEndCommandBuffer)                 \
    X(vkResetCommandBuffer)               \
    X(vkCmdBindPipeline)                  \
    X(vkCmdBindDescriptorSets)            \
    X(vkCmdPushConstants)                 \
    X(vkCmdDispatch)                      \
    X(vkCmdPipelineBarrier)               \
    X(vkCmdCopyBuffer)                    \
    X(vkCmdFillBuffer)                    \
    X(vkQueueSubmit)                      \
    X(vkCreateFence)                      \
    X(vkDestroyFence)                     \
    X(vkResetFences)                      \
    X(vkWaitForFences)

struct Loader {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
    PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;  // null before Vulkan 1.1
#define BITNET_VK_MEMBER(name) PFN_##name name = nullptr;
    BITNET_VK_GLOBAL_FUNCTIONS(BITNET_VK_MEMBER)
};

// The process-wide loader, opened once and never closed (drivers may keep threads inside it).
// Null when libvulkan cannot be opened or lacks an entry point; *problem then says why.
const Loader *loader(std::string *problem);

struct InstanceFunctions {
    BITNET_VK_INSTANCE_FUNCTIONS(BITNET_VK_MEMBER)
    PFN_vkGetPhysicalDeviceProperties2 vkGetPhysicalDeviceProperties2 = nullptr;  // Vulkan 1.1 only
    PFN_vkGetPhysicalDeviceFeatures2 vkGetPhysicalDeviceFeatures2 = nullptr;      // Vulkan 1.1 only
    // Throws Error(BITNET_ERR_BACKEND) naming a missing function.
    void load(const Loader &loader, VkInstance instance);
};

struct DeviceFunctions {
    BITNET_VK_DEVICE_FUNCTIONS(BITNET_VK_MEMBER)
    void load(PFN_vkGetDeviceProcAddr get, VkDevice device);
};
#undef BITNET_VK_MEMBER

// "VK_ERROR_OUT_OF_DEVICE_MEMORY", ...
const char *result_name(VkResult result);

// Throws on a failed result: out-of-memory results become BITNET_ERR_OUT_OF_MEMORY, every other
// failure BITNET_ERR_BACKEND; the message names `what` and the result.
void check(VkResult result, const char *what);

}  // namespace bitnet::vk
