// bitnet synth: write a random-weight model of a real shape (see tools/synth/synth.h).
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "command.h"
#include "synth/synth.h"
#include "util/error.h"

namespace {

const char *const kUsage =
    "usage: bitnet synth --preset tiny|small|2b4t --format i2_s|tq2_0|tq1_0|f16|f32\n"
    "                    [--embd-type f16|f32|q8_0|q6_k|q4_0] [--vocab VOCAB.gguf] [--seed N]\n"
    "                    [--n-layer N] [--n-embd N] [--n-ff N] [--n-head N] [--n-head-kv N] [--n-ctx N]\n"
    "                    [--activation relu2|silu] [--name NAME] -o OUT.gguf\n"
    "Random weights: the model computes nothing meaningful. The i2_s format copies the official\n"
    "bitnet-b1.58-2B-4T layout; the others are llama.cpp 'bitnet' files with the same weights.\n";

bool parse_int(const char *text, int32_t *out) {
    char *end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (!*text || *end || value <= 0 || value > (1 << 24)) return false;
    *out = static_cast<int32_t>(value);
    return true;
}

// A seed: decimal digits only (no sign, no spaces), at most 2^64 - 1.
bool parse_seed(const char *text, uint64_t *out) {
    if (!*text) return false;
    for (const char *c = text; *c; ++c) {
        if (*c < '0' || *c > '9') return false;
    }
    errno = 0;
    char *end = nullptr;
    unsigned long long value = std::strtoull(text, &end, 10);
    if (errno == ERANGE || *end) return false;
    *out = static_cast<uint64_t>(value);
    return true;
}

int run_synth(int argc, char **argv) {
    bitnet::SynthOptions options;
    std::string preset, format = "i2_s", embd_type = "f16", output;
    struct Override {
        const char *flag;
        int32_t value = 0;
    } overrides[] = {{"--n-layer"}, {"--n-embd"}, {"--n-ff"}, {"--n-head"}, {"--n-head-kv"}, {"--n-ctx"}};
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "bitnet synth: '%s' needs a value\n%s", arg.c_str(), kUsage);
            return 2;
        }
        const char *value = argv[++i];
        bool matched = true;
        if (arg == "--preset") preset = value;
        else if (arg == "--format") format = value;
        else if (arg == "--embd-type") embd_type = value;
        else if (arg == "--vocab") options.vocab_path = value;
        else if (arg == "--name") options.name = value;
        else if (arg == "--activation") options.hidden_activation = value;
        else if (arg == "-o" || arg == "--output") output = value;
        else if (arg == "--seed") {
            if (!parse_seed(value, &options.seed)) {
                std::fprintf(stderr, "bitnet synth: --seed needs a non-negative integer below 2^64, got '%s'\n", value);
                return 2;
            }
        }
        else matched = false;
        for (Override &o : overrides) {
            if (arg != o.flag) continue;
            matched = true;
            if (!parse_int(value, &o.value)) {
                std::fprintf(stderr, "bitnet synth: %s needs a positive integer, got '%s'\n", o.flag, value);
                return 2;
            }
        }
        if (!matched) {
            std::fprintf(stderr, "bitnet synth: unknown option '%s'\n%s", arg.c_str(), kUsage);
            return 2;
        }
    }
    if (preset.empty() || output.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    try {
        options.shape = bitnet::synth_preset(preset);
        int32_t *fields[] = {&options.shape.n_layer, &options.shape.n_embd, &options.shape.n_ff,
                             &options.shape.n_head, &options.shape.n_head_kv, &options.shape.n_ctx};
        for (size_t k = 0; k < 6; ++k) {
            if (overrides[k].value) *fields[k] = overrides[k].value;
        }
        auto projection = bitnet::tensor_type_from_name(format);
        if (!projection || !(*projection == bitnet::TensorType::I2_S || *projection == bitnet::TensorType::TQ2_0 ||
                             *projection == bitnet::TensorType::TQ1_0 || *projection == bitnet::TensorType::F16 ||
                             *projection == bitnet::TensorType::F32)) {
            std::fprintf(stderr, "bitnet synth: --format must be i2_s, tq2_0, tq1_0, f16 or f32 (got '%s')\n",
                         format.c_str());
            return 2;
        }
        auto embedding = bitnet::tensor_type_from_name(embd_type);
        if (!embedding || !(*embedding == bitnet::TensorType::F16 || *embedding == bitnet::TensorType::F32 ||
                            *embedding == bitnet::TensorType::Q8_0 || *embedding == bitnet::TensorType::Q6_K ||
                            *embedding == bitnet::TensorType::Q4_0)) {
            std::fprintf(stderr, "bitnet synth: --embd-type must be f16, f32, q8_0, q6_k or q4_0 (got '%s')\n",
                         embd_type.c_str());
            return 2;
        }
        options.format = *projection;
        options.embedding_type = *embedding;
        auto start = std::chrono::steady_clock::now();
        bitnet::write_synthetic_model(options, output);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "bitnet synth: wrote %s (preset %s, format %s, seed %llu) in %.1f s; weights are random\n",
                     output.c_str(), preset.c_str(), format.c_str(), static_cast<unsigned long long>(options.seed),
                     seconds);
    } catch (const bitnet::Error &error) {
        std::fprintf(stderr, "bitnet synth: %s\n", error.what());
        return 1;
    }
    return 0;
}

bitnet_cli::CommandRegistration registration("synth", "write a random-weight model of a real shape", run_synth);

}  // namespace
