#include "perplexity_kld_file.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string_view>

#ifndef XXH_INLINE_ALL  // (the Windows build defines it for every user of xxhash.h)
#define XXH_INLINE_ALL  // header-only use: the CLI links nothing but libbitnet
#endif
#include <xxhash.h>

namespace bitnet_cli {

// The file stores integers and floats as the host has them; every platform the project builds
// for (x86-64, AArch64) is little-endian, which the format requires.
static_assert(std::endian::native == std::endian::little, "the KLD base file format is little-endian");

namespace {

constexpr char kMagic[8] = {'B', 'N', 'K', 'L', 'D', 'I', 'V', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kEncodingF32 = 1;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kChecksumBytes = 8;

template <typename T>
void put(unsigned char *out, size_t offset, T value) {
    std::memcpy(out + offset, &value, sizeof value);
}
template <typename T>
T get(const unsigned char *in, size_t offset) {
    T value;
    std::memcpy(&value, in + offset, sizeof value);
    return value;
}

void encode_header(const KldHeader &h, unsigned char *out) {
    std::memcpy(out, kMagic, sizeof kMagic);
    put<uint32_t>(out, 8, kVersion);
    put<uint32_t>(out, 12, kEncodingF32);
    put<uint64_t>(out, 16, h.fingerprint);
    put<uint32_t>(out, 24, h.n_vocab);
    put<uint32_t>(out, 28, h.n_ctx);
    put<uint32_t>(out, 32, h.n_chunks);
    put<uint32_t>(out, 36, h.first);
    put<uint64_t>(out, 40, h.n_scored);
    put<uint64_t>(out, 48, h.tokens_hash);
    put<uint64_t>(out, 56, h.n_text_tokens);
}

XXH3_state_t *state_of(void *p) { return static_cast<XXH3_state_t *>(p); }

}  // namespace

uint64_t model_fingerprint(const bitnet_model *model) {
    XXH3_state_t *state = XXH3_createState();
    XXH3_64bits_reset(state);
    auto add_text = [&](std::string_view text) {
        const uint64_t size = text.size();  // length first: "ab"+"c" and "a"+"bc" differ
        XXH3_64bits_update(state, &size, sizeof size);
        XXH3_64bits_update(state, text.data(), text.size());
    };
    auto add_int = [&](int64_t value) { XXH3_64bits_update(state, &value, sizeof value); };
    add_text(bitnet_model_architecture(model));
    add_int(bitnet_model_n_layer(model));
    add_int(bitnet_model_n_embd(model));
    add_int(bitnet_model_n_head(model));
    add_int(bitnet_model_n_head_kv(model));
    add_int(bitnet_model_n_ff(model));
    add_int(bitnet_model_n_vocab(model));
    const int32_t n_tokens = bitnet_vocab_n_tokens(model);
    add_int(n_tokens);
    for (bitnet_token t = 0; t < n_tokens; ++t) {
        const char *text = bitnet_token_text(model, t);
        add_text(text ? text : "");
        add_int(bitnet_token_get_type(model, t));
    }
    const uint64_t hash = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    return hash;
}

uint64_t tokens_hash(const bitnet_token *tokens, size_t count) {
    return XXH3_64bits(tokens, count * sizeof(bitnet_token));
}

// ---------------------------------------------------------------------------------------------

KldWriter::~KldWriter() {
    if (file_) {  // not finished: leave no partial file behind
        std::fclose(file_);
        std::remove(temp_path_.c_str());
    }
    if (hash_state_) XXH3_freeState(state_of(hash_state_));
}

bool KldWriter::write(const void *data, size_t size) {
    if (std::fwrite(data, 1, size, file_) != size) {
        error_ = "writing '" + temp_path_ + "' failed: " + std::strerror(errno);
        return false;
    }
    XXH3_64bits_update(state_of(hash_state_), data, size);
    return true;
}

bool KldWriter::open(const std::string &path, const KldHeader &header) {
    path_ = path;
    temp_path_ = path + ".tmp";
    header_ = header;
    file_ = std::fopen(temp_path_.c_str(), "wb");
    if (!file_) {
        error_ = "cannot create '" + temp_path_ + "': " + std::strerror(errno);
        return false;
    }
    hash_state_ = XXH3_createState();
    XXH3_64bits_reset(state_of(hash_state_));
    unsigned char bytes[kHeaderBytes] = {};
    encode_header(header, bytes);
    return write(bytes, sizeof bytes);
}

bool KldWriter::write_row(const float *logits) {
    if (rows_ >= header_.n_scored) {
        error_ = "more rows than the header's " + std::to_string(header_.n_scored);
        return false;
    }
    ++rows_;
    return write(logits, sizeof(float) * header_.n_vocab);
}

bool KldWriter::finish() {
    if (rows_ != header_.n_scored) {
        error_ = "wrote " + std::to_string(rows_) + " rows of the header's " + std::to_string(header_.n_scored);
        return false;
    }
    const uint64_t checksum = XXH3_64bits_digest(state_of(hash_state_));
    bool ok = std::fwrite(&checksum, 1, sizeof checksum, file_) == sizeof checksum;
    ok = (std::fflush(file_) == 0) && ok;
    ok = (std::fclose(file_) == 0) && ok;
    file_ = nullptr;
    if (!ok) {
        error_ = "writing '" + temp_path_ + "' failed: " + std::strerror(errno);
        std::remove(temp_path_.c_str());
        return false;
    }
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        error_ = "cannot rename '" + temp_path_ + "' to '" + path_ + "': " + std::strerror(errno);
        std::remove(temp_path_.c_str());
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------

KldReader::~KldReader() {
    if (file_) std::fclose(file_);
}

bool KldReader::open(const std::string &path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) {
        error_ = "cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    unsigned char bytes[kHeaderBytes];
    if (std::fread(bytes, 1, sizeof bytes, file_) != sizeof bytes) {
        error_ = "'" + path + "' is not a KL-divergence base file: shorter than its 64-byte header";
        return false;
    }
    if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0) {
        error_ = "'" + path + "' is not a KL-divergence base file (no BNKLDIV magic)";
        return false;
    }
    const uint32_t version = get<uint32_t>(bytes, 8), encoding = get<uint32_t>(bytes, 12);
    if (version != kVersion || encoding != kEncodingF32) {
        error_ = "'" + path + "' has format version " + std::to_string(version) + ", logit encoding " +
                 std::to_string(encoding) + "; this build reads version 1, encoding 1 (f32)";
        return false;
    }
    header_.fingerprint = get<uint64_t>(bytes, 16);
    header_.n_vocab = get<uint32_t>(bytes, 24);
    header_.n_ctx = get<uint32_t>(bytes, 28);
    header_.n_chunks = get<uint32_t>(bytes, 32);
    header_.first = get<uint32_t>(bytes, 36);
    header_.n_scored = get<uint64_t>(bytes, 40);
    header_.tokens_hash = get<uint64_t>(bytes, 48);
    header_.n_text_tokens = get<uint64_t>(bytes, 56);
    if (header_.n_vocab == 0 || header_.n_ctx < 4 || header_.first >= header_.n_ctx - 1 ||
        header_.n_scored != uint64_t{header_.n_chunks} * (header_.n_ctx - 1 - header_.first)) {
        error_ = "'" + path + "' has an inconsistent header (n_vocab " + std::to_string(header_.n_vocab) + ", n_ctx " +
                 std::to_string(header_.n_ctx) + ", " + std::to_string(header_.n_chunks) + " chunks, " +
                 std::to_string(header_.n_scored) + " scored tokens)";
        return false;
    }
    // The size the header promises, checked before reading: a truncated file is named as such.
    uint64_t expected = 0;
    const bool overflow = __builtin_mul_overflow(header_.n_scored, uint64_t{header_.n_vocab} * sizeof(float), &expected) ||
                          __builtin_add_overflow(expected, kHeaderBytes + kChecksumBytes, &expected);
    if (std::fseek(file_, 0, SEEK_END) != 0) {
        error_ = "cannot seek in '" + path + "'";
        return false;
    }
    const long actual = std::ftell(file_);
    if (overflow || actual < 0 || static_cast<uint64_t>(actual) != expected) {
        error_ = "'" + path + "' is " + std::to_string(actual) + " bytes but its header describes " +
                 (overflow ? std::string("more than 2^64") : std::to_string(expected)) + " (" + std::to_string(header_.n_scored) +
                 " tokens x " + std::to_string(header_.n_vocab) + " logits): truncated or corrupted";
        return false;
    }
    // The checksum over everything before it, in one streaming pass.
    std::rewind(file_);
    XXH3_state_t *state = XXH3_createState();
    XXH3_64bits_reset(state);
    std::vector<unsigned char> buffer(1 << 20);
    uint64_t left = static_cast<uint64_t>(actual) - kChecksumBytes;
    while (left > 0) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
        if (std::fread(buffer.data(), 1, want, file_) != want) break;
        XXH3_64bits_update(state, buffer.data(), want);
        left -= want;
    }
    const uint64_t computed = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    uint64_t stored = 0;
    if (left != 0 || std::fread(&stored, 1, sizeof stored, file_) != sizeof stored) {
        error_ = "reading '" + path + "' failed";
        return false;
    }
    if (stored != computed) {
        error_ = "'" + path + "' fails its checksum: the file is corrupted";
        return false;
    }
    std::fseek(file_, static_cast<long>(kHeaderBytes), SEEK_SET);
    return true;
}

bool KldReader::read_row(std::vector<float> *row) {
    row->resize(header_.n_vocab);
    if (std::fread(row->data(), sizeof(float), header_.n_vocab, file_) != header_.n_vocab) {
        error_ = "reading a row of '" + path_ + "' failed";
        return false;
    }
    return true;
}

}  // namespace bitnet_cli
