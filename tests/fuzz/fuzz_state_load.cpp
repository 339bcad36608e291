// Fuzz target: saved states (bitnet_state_load / bitnet_state_seq_load) on a context of a tiny
// synthetic model. Input: one mode byte, then the bytes.
//   bit 0: 0 whole-context state, 1 sequence state      bits 2-3: destination sequence
//   bit 1: 0 the bytes are a state file as it is ("raw"): header, zstd frame, checksum;
//          1 the bytes are the decompressed payload, which the target wraps in a valid header
//            (this model's fingerprint), a zstd frame and a correct xxh3-64 checksum, so that the
//            payload parser is reached instead of stopping at the checksum.
// The format is the one lib/state/state_file.cpp documents at its top (bitnet.h "State").
// After a successful load the target decodes one more token on the restored cache.
#include <xxhash.h>
#include <zstd.h>

#include <cstring>
#include <string>

#include "fuzz_support.h"

namespace {

constexpr size_t kHeaderBytes = 40, kTrailerBytes = 8;  // state_file.cpp: header and checksum sizes
constexpr uint8_t kSequence = 1, kWrapped = 2;

struct Session {
    std::vector<uint8_t> image;
    bitnet_model *model = nullptr;
    bitnet_context *context = nullptr;
};

bitnet_context *new_context(bitnet_model *model) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 32;
    params.n_batch = 8;
    params.n_seq_max = 4;
    params.n_outputs_max = 8;
    params.n_threads = 1;
    params.embeddings = true;
    params.backend = BITNET_BACKEND_CPU;
    bitnet_context *context = nullptr;
    FUZZ_ASSERT(bitnet_context_new(model, &params, &context) == BITNET_OK, "context: %s", bitnet_last_error());
    return context;
}

Session &session() {
    static Session s = [] {
        Session made;
        made.image = bitnet_fuzz::tiny_model_image("i2_s");
        bitnet_model_params params = bitnet_model_default_params();
        // load_memory keeps referring to the image: `made.image` is never resized afterwards.
        static std::vector<uint64_t> storage;
        FUZZ_ASSERT(bitnet_fuzz::load_from_bytes(made.image.data(), made.image.size(), params, storage, &made.model) ==
                        BITNET_OK,
                    "tiny model: %s", bitnet_last_error());
        made.context = new_context(made.model);
        return made;
    }();
    return s;
}

std::vector<uint8_t> save(bitnet_context *context, bool sequence, int32_t seq) {
    std::vector<uint8_t> bytes(sequence ? bitnet_state_seq_size(context, seq) : bitnet_state_size(context));
    size_t written = 0;
    const bitnet_status status = sequence ? bitnet_state_seq_save(context, seq, bytes.data(), bytes.size(), &written)
                                          : bitnet_state_save(context, bytes.data(), bytes.size(), &written);
    FUZZ_ASSERT(status == BITNET_OK, "state save: %s", bitnet_last_error());
    bytes.resize(written);
    return bytes;
}

// A state file around `payload`: header fields as state_file.cpp writes them, this model's
// fingerprint taken from a state the library saved.
std::vector<uint8_t> wrap(const uint8_t *payload, size_t size, bool sequence) {
    static const std::vector<uint8_t> reference = save(session().context, false, 0);
    std::vector<uint8_t> out(kHeaderBytes + ZSTD_compressBound(size) + kTrailerBytes);
    const size_t compressed = ZSTD_compress(out.data() + kHeaderBytes, out.size() - kHeaderBytes, payload, size, 1);
    FUZZ_ASSERT(!ZSTD_isError(compressed), "zstd: %s", ZSTD_getErrorName(compressed));
    std::memcpy(out.data(), "BNST", 4);
    const uint32_t words[3] = {1, sequence ? 2u : 1u, 0};  // format version, kind, reserved
    std::memcpy(out.data() + 4, words, sizeof(words));
    std::memcpy(out.data() + 16, reference.data() + 16, 8);  // model fingerprint
    const uint64_t sizes[2] = {size, compressed};
    std::memcpy(out.data() + 24, sizes, sizeof(sizes));
    const uint64_t checksum = XXH3_64bits(out.data(), kHeaderBytes + compressed);
    std::memcpy(out.data() + kHeaderBytes + compressed, &checksum, 8);
    out.resize(kHeaderBytes + compressed + kTrailerBytes);
    return out;
}

std::vector<uint8_t> unwrap(const std::vector<uint8_t> &state) {
    uint64_t size;
    std::memcpy(&size, state.data() + 24, 8);
    std::vector<uint8_t> payload(size);
    const size_t produced = ZSTD_decompress(payload.data(), payload.size(), state.data() + kHeaderBytes,
                                            state.size() - kHeaderBytes - kTrailerBytes);
    FUZZ_ASSERT(produced == size, "cannot decompress a saved state");
    return payload;
}

void decode_one(bitnet_context *context, int32_t seq) {
    bitnet_batch *batch = nullptr;
    const int64_t pos = int64_t(bitnet_seq_pos_max(context, seq)) + 1;  // a loaded state may hold any position
    if (pos > INT32_MAX || bitnet_batch_new(1, &batch) != BITNET_OK) return;
    bitnet_batch_add(batch, 7, static_cast<int32_t>(pos), &seq, 1, true);
    const bitnet_status status = bitnet_decode(context, batch);
    // Whatever cache a state restored, decoding on it is a success or a stated refusal (no room, a
    // position that does not continue the sequence), never an internal or backend failure.
    FUZZ_ASSERT(status == BITNET_OK || status == BITNET_ERR_CONTEXT_FULL || status == BITNET_ERR_INVALID_INPUT,
                "decode after a state load: %s: %s", bitnet_status_string(status), bitnet_last_error());
    bitnet_batch_free(batch);
}

}  // namespace

namespace bitnet_fuzz {

void prepare() { (void)session(); }

// States of a context holding two sequences (one sharing a prefix) with logits and embeddings.
void write_seeds(SeedWriter &seeds) {
    Session &s = session();
    bitnet_context *context = new_context(s.model);
    bitnet_batch *batch = nullptr;
    FUZZ_ASSERT(bitnet_batch_new(8, &batch) == BITNET_OK, "batch: %s", bitnet_last_error());
    const int32_t both[2] = {0, 1}, one = 1;
    for (int32_t pos = 0; pos < 3; ++pos) bitnet_batch_add(batch, 10 + pos, pos, both, 2, pos == 2);
    for (int32_t pos = 3; pos < 6; ++pos) bitnet_batch_add(batch, 20 + pos, pos, &one, 1, true);
    FUZZ_ASSERT(bitnet_decode(context, batch) == BITNET_OK, "decode: %s", bitnet_last_error());
    bitnet_batch_free(batch);

    const std::vector<uint8_t> whole = save(context, false, 0), sequence = save(context, true, 1);
    const std::vector<uint8_t> empty = save(s.context, false, 0);
    auto add = [&](const char *name, uint8_t mode, const std::vector<uint8_t> &bytes) {
        std::vector<uint8_t> input{mode};
        input.insert(input.end(), bytes.begin(), bytes.end());
        seeds.add(name, input);
    };
    add("context-raw", 0, whole);
    add("context-empty-raw", 0, empty);
    add("sequence-raw", kSequence | 2 << 2, sequence);
    add("context-payload", kWrapped, unwrap(whole));
    add("context-empty-payload", kWrapped, unwrap(empty));
    add("sequence-payload", kSequence | kWrapped | 3 << 2, unwrap(sequence));
    bitnet_context_free(context);
}

}  // namespace bitnet_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Session &s = session();
    bitnet_fuzz::InputReader input(data, size);
    const uint8_t mode = input.byte();
    const bool sequence = mode & kSequence;
    const int32_t dst_seq = (mode >> 2) & 3;
    const std::string_view rest = input.rest();
    const auto *bytes = reinterpret_cast<const uint8_t *>(rest.data());
    std::vector<uint8_t> wrapped;
    if (mode & kWrapped) {
        wrapped = wrap(bytes, rest.size(), sequence);
        bytes = wrapped.data();
    }
    const size_t n = mode & kWrapped ? wrapped.size() : rest.size();

    bitnet_memory_clear(s.context);
    const bitnet_status status =
        sequence ? bitnet_state_seq_load(s.context, dst_seq, bytes, n) : bitnet_state_load(s.context, bytes, n);
    if (status != BITNET_OK) {
        FUZZ_ASSERT(bitnet_last_error()[0] != '\0', "state load failed (%s) without a message", bitnet_status_string(status));
        return 0;
    }
    for (int32_t entry = 0; entry < 8; ++entry) {
        const float *logits = bitnet_get_logits(s.context, entry);
        if (logits) {
            volatile float touch = logits[0] + logits[bitnet_model_n_vocab(s.model) - 1];
            (void)touch;
        }
    }
    decode_one(s.context, sequence ? dst_seq : 0);
    return 0;
}
