// The KV cache: per layer, keys (after RoPE) and values of every cell, in F16 or F32; and per
// cell its position and the set of sequences it belongs to. Cell metadata exists twice: the
// committed view, and a working view that a decode fills and only publishes when it succeeds, so
// that a failed decode leaves the cache exactly as it was.
#pragma once

#include <cstdint>

#include "bitnet.h"
#include "runtime/arena.h"

namespace bitnet {

struct KvCells {
    int32_t *pos = nullptr;        // -1: empty
    uint64_t *seq_mask = nullptr;  // bit s set: the cell belongs to sequence s
};

class KvCache {
public:
    static constexpr int32_t kMaxSequences = 64;

    // With `host_data` false only the cell metadata lives here (a GPU backend keeps the data).
    void layout(Arena &arena, int32_t n_layer, int32_t n_embd_kv, uint32_t n_ctx, bitnet_kv_type type,
                bool host_data = true);
    void clear();

    uint32_t n_ctx() const { return n_ctx_; }
    int32_t n_embd_kv() const { return n_embd_kv_; }
    bitnet_kv_type type() const { return type_; }
    size_t element_bytes() const { return type_ == BITNET_KV_F16 ? 2 : 4; }
    // Row `cell` of layer `layer`'s keys / values: n_embd_kv elements.
    uint8_t *key_row(int32_t layer, int32_t cell) const { return row(keys_, layer, cell); }
    uint8_t *value_row(int32_t layer, int32_t cell) const { return row(values_, layer, cell); }

    const KvCells &committed() const { return committed_; }
    KvCells &working() { return working_; }
    void copy_committed_to_working();
    void publish_working();  // the working view becomes the committed one

    // 1 + the highest position of sequence `seq` in `cells`, i.e. the next position; 0 if empty.
    int32_t next_position(const KvCells &cells, int32_t seq) const;

private:
    uint8_t *row(uint8_t *base, int32_t layer, int32_t cell) const {
        return base + ((static_cast<size_t>(layer) * n_ctx_ + cell) * n_embd_kv_) * element_bytes();
    }

    uint32_t n_ctx_ = 0;
    int32_t n_layer_ = 0;
    int32_t n_embd_kv_ = 0;
    bitnet_kv_type type_ = BITNET_KV_F16;
    uint8_t *keys_ = nullptr;
    uint8_t *values_ = nullptr;
    KvCells committed_, working_;
};

}  // namespace bitnet
