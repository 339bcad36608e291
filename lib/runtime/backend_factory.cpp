#include "runtime/backend_factory.h"

#include "backend/cpu/cpu_backend.h"
#include "util/error.h"

namespace bitnet {

bitnet_backend_type resolve_backend(bitnet_backend_type requested, int32_t device_index) {
    (void)device_index;
    if (requested == BITNET_BACKEND_VULKAN) {
        fail(BITNET_ERR_UNSUPPORTED, "context: this build has no Vulkan backend; use BITNET_BACKEND_CPU or AUTO");
    }
    return BITNET_BACKEND_CPU;
}

bool backend_keeps_kv_on_host(bitnet_backend_type backend) { return backend == BITNET_BACKEND_CPU; }

std::unique_ptr<Backend> create_backend(const bitnet_model &model, const ContextConfig &config, KvCache &kv,
                                        Arena &arena) {
    CpuBackendConfig cpu_config{config.n_batch, config.n_outputs_max, config.n_threads, config.quantize_activations,
                                config.embeddings};
    return std::make_unique<CpuBackend>(model, cpu_config, kv, arena);
}

}  // namespace bitnet
