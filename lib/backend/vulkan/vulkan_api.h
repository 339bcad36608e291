// What the rest of the engine sees of the Vulkan backend, without Vulkan types: which devices
// exist, and creating the backend. Only compiled when the build has Vulkan (BITNET_HAVE_VULKAN).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "runtime/arena.h"
#include "runtime/backend.h"
#include "runtime/context.h"
#include "runtime/kv_cache.h"

namespace bitnet {

struct VulkanDeviceSummary {
    std::string name;
    std::string type;  // "discrete gpu", "integrated gpu", "virtual gpu", "cpu", "other"
    bool gpu = false;  // a real GPU: what BITNET_BACKEND_AUTO may pick
};

struct VulkanAvailability {
    bool loader_found = false;
    std::string problem;  // why there is no device; "" when there is one
    std::vector<VulkanDeviceSummary> devices;  // in device_index order (GPUs first, CPU devices last)
};

// Looked up once per process, on first use (thread-safe).
const VulkanAvailability &vulkan_availability();

// The backend on device config.device_index. With a measuring arena it only measures and touches
// no device. Throws Error: UNSUPPORTED (no such device, a shape the shaders cannot run),
// OUT_OF_MEMORY (device memory), BACKEND (the device failed).
std::unique_ptr<Backend> create_vulkan_backend(const bitnet_model &model, const ContextConfig &config, KvCache &kv,
                                               Arena &arena);

}  // namespace bitnet
