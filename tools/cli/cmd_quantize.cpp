// bitnet quantize IN.gguf OUT.gguf TYPE [--embd-type T] [--head-type T]: re-encode a model's
// projections (and optionally its embedding / lm_head); see tools/quantize/quantize.h.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "command.h"
#include "quantize/quantize.h"
#include "util/error.h"

namespace {

const char *const kUsage =
    "usage: bitnet quantize IN.gguf OUT.gguf TYPE [--embd-type T] [--head-type T]\n"
    "  TYPE         projections: i2_s, tq2_0, tq1_0, f32, f16 or bf16\n"
    "  --embd-type  token embedding: f32, f16, bf16, q8_0, q6_k or q4_0 (default: as stored)\n"
    "  --head-type  untied output.weight: the same types (default: as stored)\n"
    "Ternary to ternary keeps the ternary values and scales; anything that changes is reported.\n"
    "I2_S files get the official bitnet-b1.58 layout, the other types llama.cpp's bitnet layout.\n";

std::optional<bitnet::TensorType> parse_type(const char *what, const std::string &name, bool (*allowed)(bitnet::TensorType),
                                             const char *choices) {
    std::optional<bitnet::TensorType> type = bitnet::tensor_type_from_name(name);
    if (!type || !allowed(*type)) {
        std::fprintf(stderr, "bitnet quantize: %s must be one of %s (got '%s')\n", what, choices, name.c_str());
        return std::nullopt;
    }
    return type;
}

int run_quantize(int argc, char **argv) {
    std::vector<std::string> positional;
    std::string embd, head;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--embd-type" || arg == "--head-type") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bitnet quantize: '%s' needs a value\n%s", arg.c_str(), kUsage);
                return 2;
            }
            (arg == "--embd-type" ? embd : head) = argv[++i];
        } else if (arg.size() > 1 && arg[0] == '-') {
            std::fprintf(stderr, "bitnet quantize: unknown option '%s'\n%s", arg.c_str(), kUsage);
            return 2;
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() != 3) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    bitnet::QuantizeOptions options;
    const char *projection_choices = "i2_s, tq2_0, tq1_0, f32, f16, bf16";
    const char *embedding_choices = "f32, f16, bf16, q8_0, q6_k, q4_0";
    auto projection = parse_type("TYPE", positional[2], bitnet::is_projection_target, projection_choices);
    if (!projection) return 2;
    options.projection_type = *projection;
    if (!embd.empty()) {
        options.embedding_type = parse_type("--embd-type", embd, bitnet::is_embedding_target, embedding_choices);
        if (!options.embedding_type) return 2;
    }
    if (!head.empty()) {
        options.head_type = parse_type("--head-type", head, bitnet::is_embedding_target, embedding_choices);
        if (!options.head_type) return 2;
    }
    try {
        const auto start = std::chrono::steady_clock::now();
        const bitnet::QuantizeResult result = bitnet::quantize_model(positional[0], positional[1], options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        for (const std::string &note : result.notes) std::fprintf(stderr, "bitnet quantize: note: %s\n", note.c_str());
        std::fprintf(stderr, "bitnet quantize: wrote %s (architecture %s, projections %s) in %.1f s\n",
                     positional[1].c_str(), result.architecture.c_str(), positional[2].c_str(), seconds);
    } catch (const bitnet::Error &error) {
        std::fprintf(stderr, "bitnet quantize: %s\n", error.what());
        return 1;
    }
    return 0;
}

bitnet_cli::CommandRegistration registration("quantize", "re-encode a model's projections and embeddings", run_quantize);

}  // namespace
