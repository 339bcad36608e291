#include "runtime/sequence_memory.h"

#include <climits>
#include <vector>

#include "util/error.h"

namespace bitnet {
namespace {

void check_seq(const bitnet_context &context, int32_t seq, const char *what) {
    if (seq < 0 || seq >= context.config.n_seq_max) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: sequence id %d is outside [0, n_seq_max = %d)", what, seq,
             context.config.n_seq_max);
    }
}

struct Range {
    int32_t begin, end;
    bool contains(int32_t pos) const { return pos >= begin && pos < end; }
};

Range make_range(int32_t p0, int32_t p1) { return {p0 < 0 ? 0 : p0, p1 < 0 ? INT32_MAX : p1}; }

}  // namespace

void memory_clear(bitnet_context &context) { context.kv.clear(); }

void seq_rm(bitnet_context &context, int32_t seq, int32_t p0, int32_t p1) {
    if (seq >= 0) check_seq(context, seq, "seq_rm");
    const uint64_t remove = seq < 0 ? ~uint64_t(0) : uint64_t(1) << seq;
    const Range range = make_range(p0, p1);
    const KvCells &cells = context.kv.committed();
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (cells.pos[cell] < 0 || !range.contains(cells.pos[cell]) || !(cells.seq_mask[cell] & remove)) continue;
        cells.seq_mask[cell] &= ~remove;
        if (cells.seq_mask[cell] == 0) cells.pos[cell] = -1;
    }
}

void seq_cp(bitnet_context &context, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    check_seq(context, src, "seq_cp");
    check_seq(context, dst, "seq_cp");
    if (src == dst) return;
    const Range range = make_range(p0, p1);
    const KvCells &cells = context.kv.committed();
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (cells.pos[cell] >= 0 && range.contains(cells.pos[cell]) && (cells.seq_mask[cell] >> src & 1)) {
            cells.seq_mask[cell] |= uint64_t(1) << dst;
        }
    }
}

void seq_keep(bitnet_context &context, int32_t seq) {
    check_seq(context, seq, "seq_keep");
    const uint64_t keep = uint64_t(1) << seq;
    const KvCells &cells = context.kv.committed();
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        cells.seq_mask[cell] &= keep;
        if (cells.seq_mask[cell] == 0) cells.pos[cell] = -1;
    }
}

void seq_add(bitnet_context &context, int32_t seq, int32_t p0, int32_t p1, int32_t delta) {
    check_seq(context, seq, "seq_add");
    if (delta == 0) return;
    const Range range = make_range(p0, p1);
    const KvCells &cells = context.kv.committed();
    auto affected = [&](uint32_t cell) {
        return cells.pos[cell] >= 0 && range.contains(cells.pos[cell]) && (cells.seq_mask[cell] >> seq & 1);
    };
    // Check first, so that a refused shift changes nothing.
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (affected(cell) && static_cast<int64_t>(cells.pos[cell]) + delta > INT32_MAX / 2) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "seq_add: position %d + %d is too large", cells.pos[cell], delta);
        }
    }
    std::vector<int32_t> moved, deltas;
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (!affected(cell)) continue;
        const int32_t new_pos = cells.pos[cell] + delta;
        if (new_pos < 0) {
            cells.pos[cell] = -1;
            cells.seq_mask[cell] = 0;
            continue;
        }
        cells.pos[cell] = new_pos;
        moved.push_back(static_cast<int32_t>(cell));
        deltas.push_back(delta);
    }
    context.backend->rotate_keys(moved.data(), deltas.data(), static_cast<int32_t>(moved.size()));
}

int32_t seq_pos_min(const bitnet_context &context, int32_t seq) {
    check_seq(context, seq, "seq_pos_min");
    const KvCells &cells = context.kv.committed();
    int32_t result = -1;
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (cells.pos[cell] >= 0 && (cells.seq_mask[cell] >> seq & 1) && (result < 0 || cells.pos[cell] < result)) {
            result = cells.pos[cell];
        }
    }
    return result;
}

int32_t seq_pos_max(const bitnet_context &context, int32_t seq) {
    check_seq(context, seq, "seq_pos_max");
    return context.kv.next_position(context.kv.committed(), seq) - 1;
}

}  // namespace bitnet
