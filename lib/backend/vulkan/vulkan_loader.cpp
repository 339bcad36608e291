#include "backend/vulkan/vulkan_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <iterator>
#include <mutex>
#include <vector>

#include "util/error.h"

namespace bitnet::vk {
namespace {

struct LoaderState {
    Loader loader;
    bool ok = false;
    std::string problem;
};

LoaderState open_loader() {
    LoaderState state;
#if defined(__APPLE__)
    static const char *const kNames[] = {"libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib"};
#else
    static const char *const kNames[] = {"libvulkan.so.1", "libvulkan.so"};
#endif
    std::vector<std::string> names(std::begin(kNames), std::end(kNames));
    std::string tried = kNames[0];
    if (const char *path = std::getenv("BITNET_VULKAN_LOADER"); path && *path) {
        names = {path};  // only this file (see vulkan_loader.h)
        tried = std::string(path) + ", from BITNET_VULKAN_LOADER";
    }
    void *library = nullptr;
    std::string errors;
    for (const std::string &name : names) {
        library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (library) break;
        const char *message = dlerror();
        if (!errors.empty()) errors += "; ";
        errors += message ? message : name;
    }
    if (!library) {
        state.problem = "the Vulkan loader (" + tried + ") could not be opened: " + errors;
        return state;
    }
    Loader &l = state.loader;
    l.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library, "vkGetInstanceProcAddr"));
    if (!l.vkGetInstanceProcAddr) {
        state.problem = "the Vulkan loader has no vkGetInstanceProcAddr";
        return state;
    }
#define BITNET_VK_LOAD_GLOBAL(name)                                                                       \
    l.name = reinterpret_cast<PFN_##name>(l.vkGetInstanceProcAddr(VK_NULL_HANDLE, #name));                \
    if (!l.name) {                                                                                        \
        state.problem = "the Vulkan loader has no " #name;                                                \
        return state;                                                                                     \
    }
    BITNET_VK_GLOBAL_FUNCTIONS(BITNET_VK_LOAD_GLOBAL)
#undef BITNET_VK_LOAD_GLOBAL
    l.vkEnumerateInstanceVersion =
        reinterpret_cast<PFN_vkEnumerateInstanceVersion>(l.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
    state.ok = true;
    return state;
}

}  // namespace

const Loader *loader(std::string *problem) {
    static std::once_flag once;
    static LoaderState *state = nullptr;  // never freed: the loader stays open for the process
    std::call_once(once, [] { state = new LoaderState(open_loader()); });
    if (!state->ok) {
        if (problem) *problem = state->problem;
        return nullptr;
    }
    return &state->loader;
}

void InstanceFunctions::load(const Loader &loader, VkInstance instance) {
#define BITNET_VK_LOAD_INSTANCE(name)                                                                     \
    name = reinterpret_cast<PFN_##name>(loader.vkGetInstanceProcAddr(instance, #name));                   \
    if (!name) fail(BITNET_ERR_BACKEND, "vulkan: the instance has no " #name);
    BITNET_VK_INSTANCE_FUNCTIONS(BITNET_VK_LOAD_INSTANCE)
#undef BITNET_VK_LOAD_INSTANCE
    vkGetPhysicalDeviceProperties2 = reinterpret_cast<PFN_vkGetPhysicalDeviceProperties2>(
        loader.vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceProperties2"));
    vkGetPhysicalDeviceFeatures2 = reinterpret_cast<PFN_vkGetPhysicalDeviceFeatures2>(
        loader.vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceFeatures2"));
}

void DeviceFunctions::load(PFN_vkGetDeviceProcAddr get, VkDevice device) {
#define BITNET_VK_LOAD_DEVICE(name)                                                                       \
    name = reinterpret_cast<PFN_##name>(get(device, #name));                                              \
    if (!name) fail(BITNET_ERR_BACKEND, "vulkan: the device has no " #name);
    BITNET_VK_DEVICE_FUNCTIONS(BITNET_VK_LOAD_DEVICE)
#undef BITNET_VK_LOAD_DEVICE
}

const char *result_name(VkResult result) {
    switch (result) {
        case VK_SUCCESS: return "VK_SUCCESS";
        case VK_NOT_READY: return "VK_NOT_READY";
        case VK_TIMEOUT: return "VK_TIMEOUT";
        case VK_INCOMPLETE: return "VK_INCOMPLETE";
        case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
        case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
        case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
        case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
        case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
        case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
        case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
        case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
        case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
        case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
        case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
        case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
        case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
        default: return "VK_ERROR (unknown)";
    }
}

void check(VkResult result, const char *what) {
    if (result == VK_SUCCESS) return;
    const bool out_of_memory = result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
                               result == VK_ERROR_OUT_OF_POOL_MEMORY || result == VK_ERROR_MEMORY_MAP_FAILED ||
                               result == VK_ERROR_TOO_MANY_OBJECTS;
    fail(out_of_memory ? BITNET_ERR_OUT_OF_MEMORY : BITNET_ERR_BACKEND, "vulkan: %s failed: %s (%d)", what,
         result_name(result), static_cast<int>(result));
}

}  // namespace bitnet::vk
