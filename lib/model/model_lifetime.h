// Telling caches kept outside a model that the model is gone.
//
// A model is immutable and knows nothing of the backends, yet a backend may keep things per model
// (the Vulkan backend's copies of the weights on each device) that should live exactly as long as
// the model. Such a cache keys its entries on bitnet_model::load_id, which no other model of the
// process ever gets (a freed model's address can be reused by the next one, its load_id cannot),
// and registers a listener here that drops the entry when the model is freed.
#pragma once

#include <cstdint>

namespace bitnet {

using ModelFreedListener = void (*)(uint64_t load_id);

// Register `listener` for every model freed from now on (the same listener twice is kept once).
// Listeners are never removed: they are process-wide caches. Throws Error(BITNET_ERR_INTERNAL)
// beyond a handful of listeners.
void add_model_freed_listener(ModelFreedListener listener);

// A new load_id: 1, 2, 3 ... in this process (thread-safe).
uint64_t next_model_load_id();

// Called by ~bitnet_model: every listener, with the model's load_id. Listeners must not throw.
void notify_model_freed(uint64_t load_id);

}  // namespace bitnet
