// Choosing and creating a context's compute backend. It lives beside the backends, not in runtime/,
// so that the runtime sees only the abstract Backend (runtime/backend.h) and these functions, never
// a concrete backend's header.
#pragma once

#include <memory>

#include "runtime/backend.h"
#include "runtime/context.h"

namespace bitnet {

// AUTO becomes VULKAN when a usable device exists (and the build has the backend), else CPU.
// An explicit VULKAN request without a usable device throws (UNSUPPORTED or BACKEND) naming why.
bitnet_backend_type resolve_backend(bitnet_backend_type requested, int32_t device_index);

// Whether the KV cache data lives in host memory (the context's arena).
bool backend_keeps_kv_on_host(bitnet_backend_type backend);

// Lay out (measure or allocate) and create the backend in `arena`.
std::unique_ptr<Backend> create_backend(const bitnet_model &model, const ContextConfig &config, KvCache &kv,
                                        Arena &arena);

}  // namespace bitnet
