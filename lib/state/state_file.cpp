// State layout (all little-endian):
//   header   "BNST" | u32 format version | u32 kind | u32 reserved (0) | u64 model fingerprint
//            | u64 payload bytes | u64 compressed bytes
//   payload  zstd frame of: u32 n_layer | u32 n_embd_kv | u32 kv_type | u32 n_cells
//            | n_cells x (i32 pos, u64 sequence mask) | n_cells x KV cell data (Backend layout)
//            | kind Context only: i32 n_entries | i32 last output entry | i32 n_outputs
//              | n_outputs x i32 entry | u32 n_vocab | logits | u32 n_embd (0: none) | embeddings
//   trailer  u64 xxh3-64 of every byte before it
#include "state/state_file.h"

#include <xxhash.h>
#if defined(BITNET_HAVE_ZSTD)
#include <zstd.h>
#endif

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "util/error.h"
#include "util/log.h"

namespace bitnet {
namespace {

constexpr char kMagic[4] = {'B', 'N', 'S', 'T'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 40;
constexpr size_t kTrailerBytes = 8;
constexpr int kCompressionLevel = 1;  // KV data is mostly incompressible noise; favour speed

#if defined(BITNET_HAVE_ZSTD)
// One zstd context per thread, kept: creating one per call allocates and clears its tables again.
ZSTD_CCtx *compression_context() {
    thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx *)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!context) fail(BITNET_ERR_OUT_OF_MEMORY, "state: cannot create a zstd compression context");
    return context.get();
}

ZSTD_DCtx *decompression_context() {
    thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx *)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!context) fail(BITNET_ERR_OUT_OF_MEMORY, "state: cannot create a zstd decompression context");
    return context.get();
}

size_t compress_bound(size_t payload) { return ZSTD_compressBound(payload); }

size_t compress(uint8_t *out, size_t capacity, const std::vector<uint8_t> &payload) {
    const size_t size =
        ZSTD_compressCCtx(compression_context(), out, capacity, payload.data(), payload.size(), kCompressionLevel);
    if (ZSTD_isError(size)) fail(BITNET_ERR_INTERNAL, "state: compression failed: %s", ZSTD_getErrorName(size));
    return size;
}

void decompress(std::vector<uint8_t> &payload, const uint8_t *compressed, size_t compressed_size) {
    const size_t produced =
        ZSTD_decompressDCtx(decompression_context(), payload.data(), payload.size(), compressed, compressed_size);
    if (ZSTD_isError(produced) || produced != payload.size()) {
        fail(BITNET_ERR_INVALID_STATE, "state: decompression failed (%s)",
             ZSTD_isError(produced) ? ZSTD_getErrorName(produced) : "size mismatch");
    }
}
#else
// A build without zstd (cmake/zstd_xxhash.cmake: the Windows cross build, for which Debian ships
// no zstd) cannot write or read the payload, which is always a zstd frame.
[[noreturn]] void no_zstd() {
    fail(BITNET_ERR_UNSUPPORTED,
         "state: built without zstd: state files (a zstd-compressed payload) cannot be saved or loaded by this "
         "build of libbitnet");
}
size_t compress_bound(size_t) { no_zstd(); }
size_t compress(uint8_t *, size_t, const std::vector<uint8_t> &) { no_zstd(); }
void decompress(std::vector<uint8_t> &, const uint8_t *, size_t) { no_zstd(); }
#endif

class Writer {
public:
    template <class T>
    void put(T value) {
        const uint8_t *bytes = reinterpret_cast<const uint8_t *>(&value);
        data.insert(data.end(), bytes, bytes + sizeof(T));
    }
    void put_bytes(const void *bytes, size_t n) {
        const uint8_t *p = static_cast<const uint8_t *>(bytes);
        data.insert(data.end(), p, p + n);
    }
    std::vector<uint8_t> data;
};

class Reader {
public:
    Reader(const uint8_t *data, size_t size) : data_(data), size_(size) {}
    template <class T>
    T get(const char *what) {
        T value;
        std::memcpy(&value, take(sizeof(T), what), sizeof(T));
        return value;
    }
    const uint8_t *take(size_t n, const char *what) {
        if (n > size_ - offset_) {
            fail(BITNET_ERR_INVALID_STATE, "state: payload ends inside %s (offset %zu, %zu bytes left, %zu needed)",
                 what, offset_, size_ - offset_, n);
        }
        const uint8_t *p = data_ + offset_;
        offset_ += n;
        return p;
    }
    size_t remaining() const { return size_ - offset_; }

private:
    const uint8_t *data_;
    size_t size_;
    size_t offset_ = 0;
};

std::vector<int32_t> cells_to_save(const bitnet_context &context, StateKind kind, int32_t seq) {
    const KvCells &cells = context.kv.committed();
    std::vector<int32_t> out;
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (cells.pos[cell] < 0) continue;
        if (kind == StateKind::Sequence && !(cells.seq_mask[cell] >> seq & 1)) continue;
        out.push_back(static_cast<int32_t>(cell));
    }
    // Sequences are restored in position order, so their cells come back in the same order.
    std::stable_sort(out.begin(), out.end(), [&](int32_t a, int32_t b) { return cells.pos[a] < cells.pos[b]; });
    return out;
}

size_t payload_bytes(const bitnet_context &context, StateKind kind, size_t n_cells) {
    const HyperParams &hp = context.model->hparams;
    size_t bytes = 16 + n_cells * (12 + context.backend->kv_cell_bytes());
    if (kind == StateKind::Context) {
        const size_t outputs = static_cast<size_t>(context.config.n_outputs_max);
        bytes += 12 + outputs * 4 + 4 + outputs * hp.n_vocab * 4 + 4 + (context.embeddings ? outputs * hp.n_embd * 4 : 0);
    }
    return bytes;
}

void check_seq(const bitnet_context &context, int32_t seq) {
    if (seq < 0 || seq >= context.config.n_seq_max) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "state: sequence id %d is outside [0, n_seq_max = %d)", seq,
             context.config.n_seq_max);
    }
}

std::vector<uint8_t> build_payload(bitnet_context &context, StateKind kind, int32_t seq) {
    const HyperParams &hp = context.model->hparams;
    std::vector<int32_t> cells = cells_to_save(context, kind, seq);
    Writer w;
    w.data.reserve(payload_bytes(context, kind, cells.size()));
    w.put<uint32_t>(static_cast<uint32_t>(hp.n_layer));
    w.put<uint32_t>(static_cast<uint32_t>(context.kv.n_embd_kv()));
    w.put<uint32_t>(static_cast<uint32_t>(context.kv.type()));
    w.put<uint32_t>(static_cast<uint32_t>(cells.size()));
    const KvCells &view = context.kv.committed();
    for (int32_t cell : cells) {
        w.put<int32_t>(view.pos[cell]);
        w.put<uint64_t>(kind == StateKind::Context ? view.seq_mask[cell] : 0);
    }
    const size_t kv_offset = w.data.size();
    w.data.resize(kv_offset + cells.size() * context.backend->kv_cell_bytes());
    context.backend->read_kv_cells(cells.data(), static_cast<int32_t>(cells.size()), w.data.data() + kv_offset);
    if (kind == StateKind::Context) {
        int32_t n_outputs = 0;
        std::vector<int32_t> entries;
        for (int32_t entry = 0; entry < context.last_n_entries; ++entry) {
            if (context.output_row_of_entry[entry] >= 0) entries.push_back(entry);
        }
        n_outputs = static_cast<int32_t>(entries.size());
        w.put<int32_t>(context.last_n_entries);
        w.put<int32_t>(context.last_output_entry);
        w.put<int32_t>(n_outputs);
        for (int32_t entry : entries) w.put<int32_t>(entry);
        w.put<uint32_t>(static_cast<uint32_t>(hp.n_vocab));
        for (int32_t entry : entries) {
            w.put_bytes(context.logits + static_cast<size_t>(context.output_row_of_entry[entry]) * hp.n_vocab,
                        static_cast<size_t>(hp.n_vocab) * sizeof(float));
        }
        w.put<uint32_t>(context.embeddings ? static_cast<uint32_t>(hp.n_embd) : 0u);
        if (context.embeddings) {
            for (int32_t entry : entries) {
                w.put_bytes(context.embeddings + static_cast<size_t>(context.output_row_of_entry[entry]) * hp.n_embd,
                            static_cast<size_t>(hp.n_embd) * sizeof(float));
            }
        }
    }
    return std::move(w.data);
}

// A validated, decoded state, ready to be applied.
struct ParsedState {
    std::vector<uint8_t> payload;
    uint32_t n_cells = 0;
    const uint8_t *cell_meta = nullptr;  // n_cells x (i32 pos, u64 mask)
    const uint8_t *kv_data = nullptr;
    int32_t n_entries = 0, last_output_entry = -1, n_outputs = 0;
    std::vector<int32_t> output_entries;
    const uint8_t *logits = nullptr;
    const uint8_t *embeddings = nullptr;

    int32_t pos(uint32_t i) const {
        int32_t value;
        std::memcpy(&value, cell_meta + i * 12, 4);
        return value;
    }
    uint64_t mask(uint32_t i) const {
        uint64_t value;
        std::memcpy(&value, cell_meta + i * 12 + 4, 8);
        return value;
    }
};

std::vector<uint8_t> verify_and_decompress(const bitnet_context &context, StateKind kind, const uint8_t *data,
                                           size_t size) {
    if (size == 0) fail(BITNET_ERR_INVALID_STATE, "state: empty (0 bytes): not a saved state");
    if (size < kHeaderBytes + kTrailerBytes) {
        fail(BITNET_ERR_INVALID_STATE, "state: %zu bytes is too short for a state (at least %zu): truncated or not a state",
             size, kHeaderBytes + kTrailerBytes);
    }
    if (std::memcmp(data, kMagic, 4) != 0) fail(BITNET_ERR_INVALID_STATE, "state: bad magic (not a bitnet state)");
    uint32_t version, stored_kind;
    std::memcpy(&version, data + 4, 4);
    std::memcpy(&stored_kind, data + 8, 4);
    if (version != kFormatVersion) {
        fail(BITNET_ERR_INVALID_STATE, "state: format version %u, this library reads %u", version, kFormatVersion);
    }
    if (stored_kind != static_cast<uint32_t>(kind)) {
        fail(BITNET_ERR_INVALID_STATE, "state: holds a %s state, a %s state was expected",
             stored_kind == 1 ? "context" : stored_kind == 2 ? "sequence" : "unknown",
             kind == StateKind::Context ? "context" : "sequence");
    }
    uint64_t fingerprint, payload_size, compressed_size;
    uint32_t reserved;
    std::memcpy(&reserved, data + 12, 4);
    std::memcpy(&fingerprint, data + 16, 8);
    std::memcpy(&payload_size, data + 24, 8);
    std::memcpy(&compressed_size, data + 32, 8);
    uint64_t stored_checksum;
    std::memcpy(&stored_checksum, data + size - kTrailerBytes, 8);
    if (XXH3_64bits(data, size - kTrailerBytes) != stored_checksum) {
        // The header's size tells a cut-off state from damaged bytes (unless the damage is there).
        const uint64_t declared = compressed_size > UINT64_MAX - kHeaderBytes - kTrailerBytes
                                      ? UINT64_MAX
                                      : compressed_size + kHeaderBytes + kTrailerBytes;
        if (declared > size) {
            fail(BITNET_ERR_INVALID_STATE,
                 "state: truncated: %zu bytes present, its header declares %llu (or the header is corrupted)", size,
                 static_cast<unsigned long long>(declared));
        }
        if (declared < size) {
            fail(BITNET_ERR_INVALID_STATE,
                 "state: %zu bytes present, its header declares %llu: bytes appended (or the header is corrupted)",
                 size, static_cast<unsigned long long>(declared));
        }
        fail(BITNET_ERR_INVALID_STATE, "state: checksum mismatch: the state is corrupted");
    }
    if (reserved != 0) fail(BITNET_ERR_INVALID_STATE, "state: reserved header field is %u, expected 0", reserved);
    if (fingerprint != context.model->fingerprint) {
        fail(BITNET_ERR_INVALID_STATE, "state: saved from another model (fingerprint %016llx, this model %016llx)",
             static_cast<unsigned long long>(fingerprint), static_cast<unsigned long long>(context.model->fingerprint));
    }
    if (compressed_size != size - kHeaderBytes - kTrailerBytes) {
        fail(BITNET_ERR_INVALID_STATE, "state: compressed payload size %llu does not match the %zu bytes present",
             static_cast<unsigned long long>(compressed_size), size - kHeaderBytes - kTrailerBytes);
    }
    const size_t bound = payload_bytes(context, kind, context.kv.n_ctx());
    if (payload_size > bound) {
        fail(BITNET_ERR_INVALID_STATE, "state: payload of %llu bytes is larger than this context can hold (%zu)",
             static_cast<unsigned long long>(payload_size), bound);
    }
    std::vector<uint8_t> payload(payload_size);
    decompress(payload, data + kHeaderBytes, compressed_size);
    return payload;
}

ParsedState parse(const bitnet_context &context, StateKind kind, const uint8_t *data, size_t size) {
    ParsedState state;
    state.payload = verify_and_decompress(context, kind, data, size);
    Reader r(state.payload.data(), state.payload.size());
    const HyperParams &hp = context.model->hparams;
    const uint32_t n_layer = r.get<uint32_t>("n_layer"), n_embd_kv = r.get<uint32_t>("n_embd_kv");
    const uint32_t kv_type = r.get<uint32_t>("kv_type");
    if (n_layer != static_cast<uint32_t>(hp.n_layer) || n_embd_kv != static_cast<uint32_t>(context.kv.n_embd_kv())) {
        fail(BITNET_ERR_INVALID_STATE, "state: cache shape %u layers x %u does not match the model's %d x %d", n_layer,
             n_embd_kv, hp.n_layer, context.kv.n_embd_kv());
    }
    if (kv_type != static_cast<uint32_t>(context.kv.type())) {
        fail(BITNET_ERR_INVALID_STATE, "state: saved with a %s KV cache, this context uses %s",
             kv_type == BITNET_KV_F16 ? "f16" : "f32", context.kv.type() == BITNET_KV_F16 ? "f16" : "f32");
    }
    state.n_cells = r.get<uint32_t>("n_cells");
    if (state.n_cells > context.kv.n_ctx()) {
        fail(BITNET_ERR_CONTEXT_FULL, "state: %u saved cells do not fit a context of %u", state.n_cells,
             context.kv.n_ctx());
    }
    state.cell_meta = r.take(static_cast<size_t>(state.n_cells) * 12, "cell positions");
    const uint64_t allowed = context.config.n_seq_max >= 64 ? ~uint64_t(0) : (uint64_t(1) << context.config.n_seq_max) - 1;
    for (uint32_t i = 0; i < state.n_cells; ++i) {
        if (state.pos(i) < 0) fail(BITNET_ERR_INVALID_STATE, "state: cell %u has negative position %d", i, state.pos(i));
        if (kind == StateKind::Context && (state.mask(i) == 0 || (state.mask(i) & ~allowed))) {
            fail(BITNET_ERR_INVALID_STATE, "state: cell %u belongs to sequences %#llx, this context has n_seq_max %d", i,
                 static_cast<unsigned long long>(state.mask(i)), context.config.n_seq_max);
        }
    }
    state.kv_data = r.take(static_cast<size_t>(state.n_cells) * context.backend->kv_cell_bytes(), "KV data");
    if (kind == StateKind::Context) {
        state.n_entries = r.get<int32_t>("entry count");
        state.last_output_entry = r.get<int32_t>("last output entry");
        state.n_outputs = r.get<int32_t>("output count");
        if (state.n_entries < 0 || state.n_entries > context.config.n_batch || state.n_outputs < 0 ||
            state.n_outputs > context.config.n_outputs_max || state.n_outputs > state.n_entries ||
            state.last_output_entry < -1 || state.last_output_entry >= state.n_entries) {
            fail(BITNET_ERR_INVALID_STATE, "state: %d outputs of %d entries do not fit n_batch %d / n_outputs_max %d",
                 state.n_outputs, state.n_entries, context.config.n_batch, context.config.n_outputs_max);
        }
        for (int32_t o = 0; o < state.n_outputs; ++o) {
            int32_t entry = r.get<int32_t>("output entries");
            if (entry < 0 || entry >= state.n_entries) fail(BITNET_ERR_INVALID_STATE, "state: output entry %d invalid", entry);
            state.output_entries.push_back(entry);
        }
        if (r.get<uint32_t>("n_vocab") != static_cast<uint32_t>(hp.n_vocab)) {
            fail(BITNET_ERR_INVALID_STATE, "state: logits have another vocabulary size");
        }
        state.logits = r.take(static_cast<size_t>(state.n_outputs) * hp.n_vocab * 4, "logits");
        const uint32_t n_embd = r.get<uint32_t>("embedding width");
        if (n_embd != 0) {
            if (n_embd != static_cast<uint32_t>(hp.n_embd)) fail(BITNET_ERR_INVALID_STATE, "state: embedding width mismatch");
            state.embeddings = r.take(static_cast<size_t>(state.n_outputs) * n_embd * 4, "embeddings");
        }
    }
    if (r.remaining() != 0) fail(BITNET_ERR_INVALID_STATE, "state: %zu unexpected bytes after the payload", r.remaining());
    return state;
}

void apply_context_state(bitnet_context &context, const ParsedState &state) {
    const HyperParams &hp = context.model->hparams;
    context.kv.clear();
    std::vector<int32_t> cells(state.n_cells);
    const KvCells &view = context.kv.committed();
    for (uint32_t i = 0; i < state.n_cells; ++i) {
        cells[i] = static_cast<int32_t>(i);
        view.pos[i] = state.pos(i);
        view.seq_mask[i] = state.mask(i);
    }
    context.backend->write_kv_cells(cells.data(), static_cast<int32_t>(cells.size()), state.kv_data);
    context.last_n_entries = state.n_entries;
    context.last_output_entry = state.last_output_entry;
    std::fill(context.output_row_of_entry, context.output_row_of_entry + context.config.n_batch, -1);
    for (int32_t o = 0; o < state.n_outputs; ++o) {
        context.output_row_of_entry[state.output_entries[o]] = o;
        std::memcpy(context.logits + static_cast<size_t>(o) * hp.n_vocab, state.logits + static_cast<size_t>(o) * hp.n_vocab * 4,
                    static_cast<size_t>(hp.n_vocab) * 4);
        if (state.embeddings && context.embeddings) {
            std::memcpy(context.embeddings + static_cast<size_t>(o) * hp.n_embd,
                        state.embeddings + static_cast<size_t>(o) * hp.n_embd * 4, static_cast<size_t>(hp.n_embd) * 4);
        }
    }
}

void apply_sequence_state(bitnet_context &context, int32_t dst_seq, const ParsedState &state) {
    const KvCells &view = context.kv.committed();
    const uint64_t bit = uint64_t(1) << dst_seq;
    // Room: empty cells plus the cells only dst_seq holds now (they are replaced).
    std::vector<int32_t> targets;
    for (uint32_t cell = 0; cell < context.kv.n_ctx() && targets.size() < state.n_cells; ++cell) {
        if (view.pos[cell] < 0 || view.seq_mask[cell] == bit) targets.push_back(static_cast<int32_t>(cell));
    }
    if (targets.size() < state.n_cells) {
        fail(BITNET_ERR_CONTEXT_FULL, "state: the sequence needs %u free cells, the context has %zu", state.n_cells,
             targets.size());
    }
    for (uint32_t cell = 0; cell < context.kv.n_ctx(); ++cell) {
        if (view.seq_mask[cell] & bit) {
            view.seq_mask[cell] &= ~bit;
            if (view.seq_mask[cell] == 0) view.pos[cell] = -1;
        }
    }
    for (uint32_t i = 0; i < state.n_cells; ++i) {
        view.pos[targets[i]] = state.pos(i);
        view.seq_mask[targets[i]] = bit;
    }
    context.backend->write_kv_cells(targets.data(), static_cast<int32_t>(state.n_cells), state.kv_data);
}

}  // namespace

size_t state_size_bound(const bitnet_context &context, StateKind kind, int32_t seq) {
    if (kind == StateKind::Sequence) check_seq(context, seq);
    const size_t payload = payload_bytes(context, kind, cells_to_save(context, kind, seq).size());
    return kHeaderBytes + compress_bound(payload) + kTrailerBytes;
}

size_t save_state(bitnet_context &context, StateKind kind, int32_t seq, uint8_t *out, size_t capacity) {
    if (kind == StateKind::Sequence) check_seq(context, seq);
    std::vector<uint8_t> payload = build_payload(context, kind, seq);
    const size_t bound = compress_bound(payload.size());
    // Compress straight into the caller's buffer when it holds the bound (bitnet_state_size()
    // gives that); else through a temporary. Fresh large buffers cost page faults, so one is saved.
    const bool direct = capacity >= kHeaderBytes + kTrailerBytes && capacity - kHeaderBytes - kTrailerBytes >= bound;
    std::unique_ptr<uint8_t[]> temporary(direct ? nullptr : new uint8_t[bound]);
    uint8_t *compressed = direct ? out + kHeaderBytes : temporary.get();
    const size_t compressed_size = compress(compressed, bound, payload);
    const size_t total = kHeaderBytes + compressed_size + kTrailerBytes;
    if (capacity < total) {
        fail(BITNET_ERR_BUFFER_TOO_SMALL, "state: needs %zu bytes, the buffer has %zu", total, capacity);
    }
    std::memcpy(out, kMagic, 4);
    const uint32_t header_words[3] = {kFormatVersion, static_cast<uint32_t>(kind), 0};
    std::memcpy(out + 4, header_words, 12);
    const uint64_t sizes[3] = {context.model->fingerprint, payload.size(), compressed_size};
    std::memcpy(out + 16, sizes, 24);
    if (!direct) std::memcpy(out + kHeaderBytes, compressed, compressed_size);
    const uint64_t checksum = XXH3_64bits(out, kHeaderBytes + compressed_size);
    std::memcpy(out + kHeaderBytes + compressed_size, &checksum, 8);
    LOG_DEBUG("state: saved %zu payload bytes as %zu (ratio %.2f)", payload.size(), total,
              static_cast<double>(payload.size()) / static_cast<double>(total));
    return total;
}

void load_state(bitnet_context &context, StateKind kind, int32_t dst_seq, const uint8_t *data, size_t size) {
    if (kind == StateKind::Sequence) check_seq(context, dst_seq);
    ParsedState state = parse(context, kind, data, size);
    if (kind == StateKind::Context) {
        apply_context_state(context, state);
    } else {
        apply_sequence_state(context, dst_seq, state);
    }
}

}  // namespace bitnet
