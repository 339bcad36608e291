#include "model/model_lifetime.h"

#include <atomic>
#include <mutex>

#include "util/error.h"

namespace bitnet {
namespace {

// Trivially destructible on purpose: a model freed by another static's destructor at exit still
// finds the listeners here.
constexpr int kMaxListeners = 4;
std::atomic<ModelFreedListener> listeners[kMaxListeners];
std::atomic<uint64_t> last_load_id{0};

}  // namespace

void add_model_freed_listener(ModelFreedListener listener) {
    static std::mutex mutex;  // only orders registrations; notify reads the atomics without it
    std::lock_guard<std::mutex> lock(mutex);
    for (std::atomic<ModelFreedListener> &slot : listeners) {
        ModelFreedListener current = slot.load();
        if (current == listener) return;
        if (current == nullptr) {
            slot.store(listener);
            return;
        }
    }
    fail(BITNET_ERR_INTERNAL, "model: more than %d model-freed listeners", kMaxListeners);
}

uint64_t next_model_load_id() { return last_load_id.fetch_add(1) + 1; }

void notify_model_freed(uint64_t load_id) {
    for (std::atomic<ModelFreedListener> &slot : listeners) {
        if (ModelFreedListener listener = slot.load()) listener(load_id);
    }
}

}  // namespace bitnet
