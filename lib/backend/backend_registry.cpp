#include "backend/backend_registry.h"

#include <string>

#include "backend/cpu/cpu_backend.h"
#include "util/error.h"
#include "util/log.h"
#if defined(BITNET_HAVE_VULKAN)
#include "backend/vulkan/vulkan_api.h"
#endif

namespace bitnet {

#if defined(BITNET_HAVE_VULKAN)
namespace {

std::string device_list(const VulkanAvailability &vulkan) {
    std::string list;
    for (size_t i = 0; i < vulkan.devices.size(); ++i) {
        if (i) list += ", ";
        list += format("%zu = %s (%s)", i, vulkan.devices[i].name.c_str(), vulkan.devices[i].type.c_str());
    }
    return list;
}

}  // namespace

// AUTO takes Vulkan only on a real GPU: a CPU implementation such as lavapipe would be far slower
// than the CPU backend on the same cores. An explicit VULKAN request may use any device.
bitnet_backend_type resolve_backend(bitnet_backend_type requested, int32_t device_index) {
    if (requested == BITNET_BACKEND_CPU) return BITNET_BACKEND_CPU;
    const VulkanAvailability &vulkan = vulkan_availability();
    const bool exists = device_index >= 0 && static_cast<size_t>(device_index) < vulkan.devices.size();
    if (requested == BITNET_BACKEND_VULKAN) {
        if (!vulkan.loader_found) {
            fail(BITNET_ERR_UNSUPPORTED, "context: the Vulkan backend was requested but there is no Vulkan loader (%s)",
                 vulkan.problem.c_str());
        }
        if (vulkan.devices.empty()) {
            fail(BITNET_ERR_UNSUPPORTED, "context: the Vulkan backend was requested but there is no Vulkan device (%s)",
                 vulkan.problem.c_str());
        }
        if (!exists) {
            fail(BITNET_ERR_UNSUPPORTED, "context: Vulkan device_index %d does not exist; the devices are %s", device_index,
                 device_list(vulkan).c_str());
        }
        return BITNET_BACKEND_VULKAN;
    }
    if (vulkan.devices.empty()) {
        LOG_INFO("context: backend auto: no Vulkan device (%s); using the CPU", vulkan.problem.c_str());
        return BITNET_BACKEND_CPU;
    }
    if (!exists) {
        LOG_INFO("context: backend auto: no Vulkan device %d (devices: %s); using the CPU", device_index,
                 device_list(vulkan).c_str());
        return BITNET_BACKEND_CPU;
    }
    const VulkanDeviceSummary &device = vulkan.devices[static_cast<size_t>(device_index)];
    if (!device.gpu) {
        LOG_INFO("context: backend auto: Vulkan device %d (%s) is a %s implementation, not a GPU; using the CPU "
                 "(BITNET_BACKEND_VULKAN would use it)",
                 device_index, device.name.c_str(), device.type.c_str());
        return BITNET_BACKEND_CPU;
    }
    LOG_INFO("context: backend auto: Vulkan device %d (%s, %s)", device_index, device.name.c_str(), device.type.c_str());
    return BITNET_BACKEND_VULKAN;
}
#else
bitnet_backend_type resolve_backend(bitnet_backend_type requested, int32_t device_index) {
    (void)device_index;
    if (requested == BITNET_BACKEND_VULKAN) {
        fail(BITNET_ERR_UNSUPPORTED, "context: this build has no Vulkan backend; use BITNET_BACKEND_CPU or AUTO");
    }
    return BITNET_BACKEND_CPU;
}
#endif

bool backend_keeps_kv_on_host(bitnet_backend_type backend) { return backend == BITNET_BACKEND_CPU; }

std::unique_ptr<Backend> create_backend(const bitnet_model &model, const ContextConfig &config, KvCache &kv,
                                        Arena &arena) {
#if defined(BITNET_HAVE_VULKAN)
    if (config.backend == BITNET_BACKEND_VULKAN) return create_vulkan_backend(model, config, kv, arena);
#endif
    CpuBackendConfig cpu_config{config.n_batch, config.n_outputs_max, config.n_threads, config.quantize_activations,
                                config.embeddings};
    return std::make_unique<CpuBackend>(model, cpu_config, kv, arena);
}

}  // namespace bitnet
