#include "runtime/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace bitnet {

void KvCache::layout(Arena &arena, int32_t n_layer, int32_t n_embd_kv, uint32_t n_ctx, bitnet_kv_type type,
                     bool host_data) {
    n_layer_ = n_layer;
    n_embd_kv_ = n_embd_kv;
    n_ctx_ = n_ctx;
    type_ = type;
    if (host_data) {
        size_t elements = static_cast<size_t>(n_layer) * n_ctx * n_embd_kv;
        keys_ = arena.allocate<uint8_t>(elements * element_bytes());
        values_ = arena.allocate<uint8_t>(elements * element_bytes());
    }
    committed_.pos = arena.allocate<int32_t>(n_ctx);
    committed_.seq_mask = arena.allocate<uint64_t>(n_ctx);
    working_.pos = arena.allocate<int32_t>(n_ctx);
    working_.seq_mask = arena.allocate<uint64_t>(n_ctx);
}

void KvCache::clear() {
    std::fill(committed_.pos, committed_.pos + n_ctx_, -1);
    std::fill(committed_.seq_mask, committed_.seq_mask + n_ctx_, 0);
}

void KvCache::copy_committed_to_working() {
    std::memcpy(working_.pos, committed_.pos, n_ctx_ * sizeof(int32_t));
    std::memcpy(working_.seq_mask, committed_.seq_mask, n_ctx_ * sizeof(uint64_t));
}

void KvCache::publish_working() { std::swap(committed_, working_); }

int32_t KvCache::next_position(const KvCells &cells, int32_t seq) const {
    const uint64_t bit = uint64_t(1) << seq;
    int32_t next = 0;
    for (uint32_t cell = 0; cell < n_ctx_; ++cell) {
        if ((cells.seq_mask[cell] & bit) && cells.pos[cell] >= next) next = cells.pos[cell] + 1;
    }
    return next;
}

}  // namespace bitnet
