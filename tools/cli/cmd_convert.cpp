// bitnet convert: a Hugging Face checkpoint folder -> GGUF (see tools/convert/converter.h).
#include <chrono>
#include <cstdio>
#include <string>

#include "command.h"
#include "convert/converter.h"
#include "convert/progress.h"
#include "util/error.h"

namespace {

const char *const kUsage =
    "usage: bitnet convert HF_DIR -o OUT.gguf [--outtype i2_s|tq2_0|tq1_0|bf16|f16|f32]\n"
    "                      [--embd-type f16|f32|bf16|q8_0|q6_k|q4_0] [--vocab-only] [--name NAME]\n"
    "Reads config.json, tokenizer.json or tokenizer.model, tokenizer_config.json, generation_config.json\n"
    "and model.safetensors (or the shards of model.safetensors.index.json). BitNet checkpoints default to\n"
    "i2_s (Microsoft's BitNetForCausalLM: the official bitnet-b1.58 layout), float Llama ones to f16.\n"
    "OUT.gguf appears only when the conversion completes.\n";

int run_convert(int argc, char **argv) {
    bitnet::convert::ConvertOptions options;
    std::string outtype, embd_type = "f16";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--vocab-only") {
            options.vocab_only = true;
            continue;
        }
        if (arg.rfind("-", 0) != 0) {
            if (!options.input_folder.empty()) {
                std::fprintf(stderr, "bitnet convert: more than one input folder ('%s', '%s')\n%s",
                             options.input_folder.c_str(), arg.c_str(), kUsage);
                return 2;
            }
            options.input_folder = arg;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "bitnet convert: '%s' needs a value\n%s", arg.c_str(), kUsage);
            return 2;
        }
        const char *value = argv[++i];
        if (arg == "-o" || arg == "--output") options.output_path = value;
        else if (arg == "--outtype") outtype = value;
        else if (arg == "--embd-type") embd_type = value;
        else if (arg == "--name") options.name = value;
        else {
            std::fprintf(stderr, "bitnet convert: unknown option '%s'\n%s", arg.c_str(), kUsage);
            return 2;
        }
    }
    if (options.input_folder.empty() || options.output_path.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    using bitnet::TensorType;
    if (!outtype.empty()) {
        auto type = bitnet::tensor_type_from_name(outtype);
        if (!type || !(*type == TensorType::I2_S || *type == TensorType::TQ2_0 || *type == TensorType::TQ1_0 ||
                       *type == TensorType::BF16 || *type == TensorType::F16 || *type == TensorType::F32)) {
            std::fprintf(stderr, "bitnet convert: --outtype must be i2_s, tq2_0, tq1_0, bf16, f16 or f32 (got '%s')\n",
                         outtype.c_str());
            return 2;
        }
        options.outtype = *type;
    }
    auto embedding = bitnet::tensor_type_from_name(embd_type);
    if (!embedding || !(*embedding == TensorType::F16 || *embedding == TensorType::F32 ||
                        *embedding == TensorType::BF16 || *embedding == TensorType::Q8_0 ||
                        *embedding == TensorType::Q6_K || *embedding == TensorType::Q4_0)) {
        std::fprintf(stderr, "bitnet convert: --embd-type must be f16, f32, bf16, q8_0, q6_k or q4_0 (got '%s')\n",
                     embd_type.c_str());
        return 2;
    }
    options.embedding_type = *embedding;
    options.progress = bitnet::convert::stderr_is_terminal();
    try {
        const auto start = std::chrono::steady_clock::now();
        bitnet::convert::convert_checkpoint(options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "bitnet convert: wrote %s in %.1f s\n", options.output_path.c_str(), seconds);
    } catch (const bitnet::Error &error) {
        std::string message = error.what();
        if (message.rfind("convert: ", 0) == 0) message.erase(0, 9);  // the converter's own prefix
        std::fprintf(stderr, "bitnet convert: %s\n", message.c_str());
        return 1;
    } catch (const std::exception &error) {  // e.g. std::bad_alloc
        std::fprintf(stderr, "bitnet convert: %s\n", error.what());
        return 1;
    }
    return 0;
}

bitnet_cli::CommandRegistration registration("convert", "convert a Hugging Face checkpoint to GGUF", run_convert);

}  // namespace
