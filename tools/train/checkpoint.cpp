#include "train/checkpoint.h"

#include <xxhash.h>
#include <zstd.h>

#include <cstring>

#include "train/atomic_file.h"
#include "util/error.h"

namespace bitnet::train {
namespace {

// Header, little-endian: magic "BNTRAIN\0", u32 version, u32 zero, u64 payload size,
// u64 compressed size, u64 XXH3-64 of the compressed bytes; then the zstd frame.
constexpr char kMagic[8] = {'B', 'N', 'T', 'R', 'A', 'I', 'N', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 40;
constexpr uint64_t kMaxPayload = 1ull << 36;

class Encoder {
public:
    template <class T> void put(T value) {
        const auto *p = reinterpret_cast<const uint8_t *>(&value);
        bytes.insert(bytes.end(), p, p + sizeof value);
    }
    void put_string(const std::string &s) {
        put<uint64_t>(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
    void put_floats(const std::vector<float> &values) {
        put<uint64_t>(values.size());
        const auto *p = reinterpret_cast<const uint8_t *>(values.data());
        bytes.insert(bytes.end(), p, p + values.size() * sizeof(float));
    }
    std::vector<uint8_t> bytes;
};

class Decoder {
public:
    Decoder(const uint8_t *data, size_t size, const std::string &path) : data_(data), size_(size), path_(path) {}
    template <class T> T get() {
        T value;
        std::memcpy(&value, take(sizeof value), sizeof value);
        return value;
    }
    std::string get_string() {
        const uint64_t n = get<uint64_t>();
        const uint8_t *p = take(n);
        return std::string(reinterpret_cast<const char *>(p), n);
    }
    std::vector<float> get_floats() {
        const uint64_t n = get<uint64_t>();
        if (n > size_ / sizeof(float)) truncated();
        std::vector<float> values(n);
        std::memcpy(values.data(), take(n * sizeof(float)), n * sizeof(float));
        return values;
    }
    bool at_end() const { return position_ == size_; }

private:
    const uint8_t *take(uint64_t n) {
        if (n > size_ - position_) truncated();
        const uint8_t *p = data_ + position_;
        position_ += n;
        return p;
    }
    [[noreturn]] void truncated() const {
        fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' is inconsistent: a field runs past the end of its data", path_.c_str());
    }
    const uint8_t *data_;
    size_t size_, position_ = 0;
    const std::string &path_;
};

void put_u64_le(uint8_t *p, uint64_t v) { std::memcpy(p, &v, 8); }
uint64_t get_u64_le(const uint8_t *p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

}  // namespace

void write_checkpoint(const TrainState &s, const std::string &path) {
    Encoder e;
    const ModelShape &m = s.shape;
    for (int32_t v : {m.n_vocab, m.n_embd, m.n_layer, m.n_head, m.n_head_kv, m.n_ff, m.n_ctx}) e.put<int32_t>(v);
    e.put<float>(m.rope_freq_base), e.put<float>(m.rms_eps);
    const TrainOptions &o = s.options;
    e.put_string(o.preset);
    e.put<int32_t>(o.vocab_size), e.put<int32_t>(o.ctx), e.put<int32_t>(o.batch);
    e.put<int64_t>(o.steps), e.put<double>(o.epochs), e.put<uint64_t>(o.seed);
    e.put<int64_t>(o.log_every), e.put<int64_t>(o.val_every), e.put<int64_t>(o.checkpoint_every);
    const OptimizerSettings &z = o.optimizer;
    e.put<float>(z.learning_rate), e.put<float>(z.min_learning_rate_ratio), e.put<int64_t>(z.warmup_steps);
    e.put<int64_t>(z.total_steps), e.put<float>(z.beta1), e.put<float>(z.beta2), e.put<float>(z.epsilon);
    e.put<float>(z.weight_decay), e.put<float>(z.clip_norm);
    e.put_string(s.tokenizer_model);
    e.put<int64_t>(s.step), e.put<uint64_t>(s.tokens_seen), e.put<uint64_t>(s.random.state);
    e.put_floats(s.parameters), e.put_floats(s.m), e.put_floats(s.v);

    std::vector<uint8_t> out(kHeaderBytes + ZSTD_compressBound(e.bytes.size()));
    const size_t compressed = ZSTD_compress(out.data() + kHeaderBytes, out.size() - kHeaderBytes, e.bytes.data(), e.bytes.size(), 3);
    if (ZSTD_isError(compressed)) fail(BITNET_ERR_INTERNAL, "train: compressing the checkpoint failed: %s", ZSTD_getErrorName(compressed));
    out.resize(kHeaderBytes + compressed);
    std::memcpy(out.data(), kMagic, 8);
    std::memcpy(out.data() + 8, &kVersion, 4);
    std::memset(out.data() + 12, 0, 4);
    put_u64_le(out.data() + 16, e.bytes.size());
    put_u64_le(out.data() + 24, compressed);
    put_u64_le(out.data() + 32, XXH3_64bits(out.data() + kHeaderBytes, compressed));
    write_file_atomically(path, out);
}

TrainState read_checkpoint(const std::string &path) {
    const std::vector<uint8_t> file = read_whole_file(path);
    if (file.size() < kHeaderBytes || std::memcmp(file.data(), kMagic, 8) != 0) {
        fail(BITNET_ERR_INVALID_MODEL, "train: '%s' is not a bitnet training checkpoint (no BNTRAIN magic)", path.c_str());
    }
    uint32_t version;
    std::memcpy(&version, file.data() + 8, 4);
    if (version != kVersion) fail(BITNET_ERR_UNSUPPORTED, "train: checkpoint '%s' has version %u (this build reads %u)", path.c_str(), version, kVersion);
    const uint64_t payload = get_u64_le(file.data() + 16), compressed = get_u64_le(file.data() + 24);
    if (compressed != file.size() - kHeaderBytes) {
        fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' is truncated or padded: %llu compressed bytes expected, %zu present",
             path.c_str(), static_cast<unsigned long long>(compressed), file.size() - kHeaderBytes);
    }
    if (XXH3_64bits(file.data() + kHeaderBytes, compressed) != get_u64_le(file.data() + 32)) {
        fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' is corrupt (XXH3 checksum mismatch)", path.c_str());
    }
    if (payload > kMaxPayload) fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' claims %llu bytes of state", path.c_str(), static_cast<unsigned long long>(payload));
    std::vector<uint8_t> bytes(payload);
    const size_t got = ZSTD_decompress(bytes.data(), bytes.size(), file.data() + kHeaderBytes, compressed);
    if (ZSTD_isError(got) || got != payload) fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' does not decompress to its recorded size", path.c_str());

    Decoder d(bytes.data(), bytes.size(), path);
    TrainState s;
    ModelShape &m = s.shape;
    for (int32_t *v : {&m.n_vocab, &m.n_embd, &m.n_layer, &m.n_head, &m.n_head_kv, &m.n_ff, &m.n_ctx}) *v = d.get<int32_t>();
    m.rope_freq_base = d.get<float>(), m.rms_eps = d.get<float>();
    TrainOptions &o = s.options;
    o.preset = d.get_string();
    o.vocab_size = d.get<int32_t>(), o.ctx = d.get<int32_t>(), o.batch = d.get<int32_t>();
    o.steps = d.get<int64_t>(), o.epochs = d.get<double>(), o.seed = d.get<uint64_t>();
    o.log_every = d.get<int64_t>(), o.val_every = d.get<int64_t>(), o.checkpoint_every = d.get<int64_t>();
    OptimizerSettings &z = o.optimizer;
    z.learning_rate = d.get<float>(), z.min_learning_rate_ratio = d.get<float>(), z.warmup_steps = d.get<int64_t>();
    z.total_steps = d.get<int64_t>(), z.beta1 = d.get<float>(), z.beta2 = d.get<float>(), z.epsilon = d.get<float>();
    z.weight_decay = d.get<float>(), z.clip_norm = d.get<float>();
    s.tokenizer_model = d.get_string();
    s.step = d.get<int64_t>(), s.tokens_seen = d.get<uint64_t>(), s.random.state = d.get<uint64_t>();
    s.parameters = d.get_floats(), s.m = d.get_floats(), s.v = d.get_floats();
    if (!d.at_end()) fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' has trailing bytes after its state", path.c_str());
    check_shape(m);
    const uint64_t expected = ParameterLayout::of(m).total;
    if (s.parameters.size() != expected || s.m.size() != expected || s.v.size() != expected) {
        fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' holds %zu parameters, its shape needs %llu", path.c_str(),
             s.parameters.size(), static_cast<unsigned long long>(expected));
    }
    if (o.batch <= 0 || z.total_steps <= 0 || s.step < 0 || s.step > z.total_steps) {
        fail(BITNET_ERR_INVALID_MODEL, "train: checkpoint '%s' has an impossible batch or step count", path.c_str());
    }
    return s;
}

}  // namespace bitnet::train
