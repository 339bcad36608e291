#include "fuzz_support.h"

#include <sys/stat.h>

#include <cstdarg>
#include <cstring>
#include <fstream>

#include "synth/synth.h"

namespace bitnet_fuzz {

void SeedWriter::add(std::string_view name, const std::vector<uint8_t> &bytes) {
    add(name, std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()));
}

void SeedWriter::add(std::string_view name, std::string_view bytes) {
    const std::string path = dir_ + "/" + std::string(name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write seed %s\n", path.c_str());
        std::exit(1);
    }
    ++count_;
}

void broken_promise(const char *format, ...) {
    std::va_list args;
    va_start(args, format);
    std::fprintf(stderr, "fuzz: broken promise: ");
    std::vfprintf(stderr, format, args);
    std::fprintf(stderr, "\n");
    va_end(args);
    std::abort();  // libFuzzer reports the abort as a crash and saves the input
}

static bool exists(const std::string &path) {
    struct stat info;
    return stat(path.c_str(), &info) == 0;
}

std::string fixture_path(const std::string &relative) {
    const char *env = std::getenv("BITNET_FIXTURES");
    const std::string dir = env && *env ? env : BITNET_FIXTURES_DIR;
    const std::string path = dir + "/" + relative;
    return exists(path) ? path : std::string();
}

bitnet_model *load_fixture_vocab(const char *relative) {
    const std::string path = fixture_path(relative);
    if (path.empty()) {
        std::fprintf(stderr, "fuzz: skipped %s: fixture not found (set BITNET_FIXTURES or provide ../shared/fixtures)\n",
                     relative);
        return nullptr;
    }
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    if (bitnet_model_load_file(path.c_str(), &params, &model) != BITNET_OK) {
        std::fprintf(stderr, "fuzz: cannot load %s: %s\n", path.c_str(), bitnet_last_error());
        std::exit(1);
    }
    return model;
}

std::vector<uint8_t> tiny_model_image(const char *format, uint64_t seed) {
    bitnet::SynthOptions options;
    // n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, rope base, n_vocab (0: byte-level only).
    // The smallest widths the formats accept: I2_S blocks hold 128 weights, TQ1_0/TQ2_0 blocks 256.
    const std::string name = format;
    const int32_t width = name.rfind("tq", 0) == 0 ? 256 : 128;
    options.shape = {width, 1, 2, 1, width, 64, 10000.0f, 0};
    options.format = name == "i2_s"    ? bitnet::TensorType::I2_S
                     : name == "tq2_0" ? bitnet::TensorType::TQ2_0
                     : name == "tq1_0" ? bitnet::TensorType::TQ1_0
                     : name == "f16"   ? bitnet::TensorType::F16
                                       : bitnet::TensorType::F32;
    options.seed = seed;
    options.name = "fuzz-tiny";
    return bitnet::synthesize_model(options);
}

bitnet_status load_from_bytes(const uint8_t *data, size_t size, const bitnet_model_params &params,
                              std::vector<uint64_t> &storage, bitnet_model **out) {
    storage.assign((size + 7) / 8, 0);
    if (size) std::memcpy(storage.data(), data, size);
    return bitnet_model_load_memory(storage.data(), size, &params, out);
}

bool is_valid_utf8(std::string_view text) {
    const auto *p = reinterpret_cast<const unsigned char *>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        // RFC 3629 §4: the lead byte fixes the length and the range of the second byte.
        size_t length;
        unsigned char low = 0x80, high = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0) low = 0xA0;   // no overlong forms
            if (c == 0xED) high = 0x9F;  // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0) low = 0x90;   // no overlong forms
            if (c == 0xF4) high = 0x8F;  // nothing above U+10FFFF
        } else {
            return false;
        }
        if (n - i < length) return false;
        if (p[i + 1] < low || p[i + 1] > high) return false;
        for (size_t k = 2; k < length; ++k) {
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
        }
        i += length;
    }
    return true;
}

std::string_view InputReader::until(uint8_t separator) {
    const size_t start = offset_;
    while (offset_ < size_ && data_[offset_] != separator) ++offset_;
    std::string_view piece(reinterpret_cast<const char *>(data_) + start, offset_ - start);
    if (offset_ < size_) ++offset_;
    return piece;
}

std::string_view InputReader::rest() {
    std::string_view piece(reinterpret_cast<const char *>(data_) + offset_, size_ - offset_);
    offset_ = size_;
    return piece;
}

}  // namespace bitnet_fuzz

// libFuzzer calls this once before fuzzing; it is also the seed generator's entry point.
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
    constexpr std::string_view kFlag = "--write-seeds=";
    for (int i = 1; i < *argc; ++i) {
        const std::string_view arg = (*argv)[i];
        if (arg.substr(0, kFlag.size()) != kFlag) continue;
        const std::string dir(arg.substr(kFlag.size()));
        mkdir(dir.c_str(), 0755);
        bitnet_fuzz::SeedWriter seeds(dir);
        bitnet_fuzz::write_seeds(seeds);
        std::fprintf(stderr, "fuzz: wrote %d seeds to %s\n", seeds.count(), dir.c_str());
        std::exit(0);
    }
    if (bitnet_fuzz::prepare) bitnet_fuzz::prepare();
    return 0;
}
