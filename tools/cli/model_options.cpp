#include "model_options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "command.h"

namespace bitnet_cli {

const char *const kModelOptionsHelp =
    "  -m, --model FILE      GGUF model\n"
    "  -t, --threads N       CPU threads (default: all available)\n"
    "  -c, --ctx-size N      KV cache size in tokens (default: model's, at most 4096)\n"
    "  --kv-type f16|f32     KV cache element type (default f16)\n"
    "  --no-act-quant        float activations into the ternary weights (analysis mode)\n"
    "  --backend NAME        auto, cpu or vulkan (default auto: Vulkan on a GPU, else CPU)\n"
    "  --head-type TYPE      re-encode the lm_head at load: f16, q8_0, q6_k or q4_0 (default: as stored)\n"
    "  --no-mmap             read the model into memory instead of mapping it\n"
    "  --mlock               lock the model's bytes in memory (never paged out; needs RLIMIT_MEMLOCK)\n"
    "  -v, --verbose         log loading and context details to stderr\n";

static bool parse_unsigned(const char *text, long max_value, long *out) {
    char *end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (!*text || *end || value < 0 || value > max_value) return false;
    *out = value;
    return true;
}

bool parse_model_option(int argc, char **argv, int *i, ModelOptions *options, std::string *error) {
    const std::string arg = argv[*i];
    auto value = [&]() -> const char * {
        if (*i + 1 >= argc) {
            *error = arg + " needs a value";
            return nullptr;
        }
        return argv[++*i];
    };
    long number = 0;
    if (arg == "-m" || arg == "--model") {
        const char *v = value();
        if (v) options->model_path = v;
    } else if (arg == "-t" || arg == "--threads") {
        const char *v = value();
        if (v && !parse_unsigned(v, 1024, &number)) *error = "--threads needs an integer in [0, 1024]";
        options->n_threads = static_cast<int32_t>(number);
    } else if (arg == "-c" || arg == "--ctx-size") {
        const char *v = value();
        if (v && !parse_unsigned(v, 1 << 20, &number)) *error = "--ctx-size needs an integer in [0, 2^20]";
        options->n_ctx = static_cast<uint32_t>(number);
    } else if (arg == "--kv-type") {
        const char *v = value();
        if (v && !std::strcmp(v, "f16")) options->kv_type = BITNET_KV_F16;
        else if (v && !std::strcmp(v, "f32")) options->kv_type = BITNET_KV_F32;
        else if (v) *error = "--kv-type must be f16 or f32";
    } else if (arg == "--backend") {
        const char *v = value();
        if (v && !std::strcmp(v, "auto")) options->backend = BITNET_BACKEND_AUTO;
        else if (v && !std::strcmp(v, "cpu")) options->backend = BITNET_BACKEND_CPU;
        else if (v && !std::strcmp(v, "vulkan")) options->backend = BITNET_BACKEND_VULKAN;
        else if (v) *error = "--backend must be auto, cpu or vulkan";
    } else if (arg == "--head-type") {
        const char *v = value();
        if (v && !std::strcmp(v, "f16")) options->head_type = BITNET_HEAD_F16;
        else if (v && !std::strcmp(v, "q8_0")) options->head_type = BITNET_HEAD_Q8_0;
        else if (v && !std::strcmp(v, "q6_k")) options->head_type = BITNET_HEAD_Q6_K;
        else if (v && !std::strcmp(v, "q4_0")) options->head_type = BITNET_HEAD_Q4_0;
        else if (v) *error = "--head-type must be f16, q8_0, q6_k or q4_0";
    } else if (arg == "--no-mmap") {
        options->use_mmap = false;
    } else if (arg == "--mlock") {
        options->use_mlock = true;
    } else if (arg == "--no-act-quant") {
        options->quantize_activations = false;
    } else if (arg == "-v" || arg == "--verbose") {
        options->verbose = true;
    } else {
        return false;
    }
    return true;
}

bool parse_token_list(const std::string &text, std::vector<bitnet_token> *tokens) {
    std::string normalized = text;
    for (char &c : normalized) {
        if (c == ',') c = ' ';
    }
    std::istringstream stream(normalized);
    std::string word;
    while (stream >> word) {
        char *end = nullptr;
        long value = std::strtol(word.c_str(), &end, 10);
        if (*end || value < INT32_MIN || value > INT32_MAX) return false;
        tokens->push_back(static_cast<bitnet_token>(value));
    }
    return true;
}

bitnet_context_params context_params(const ModelOptions &options) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = options.n_ctx;
    params.n_threads = options.n_threads;
    params.kv_type = options.kv_type;
    params.quantize_activations = options.quantize_activations;
    params.backend = options.backend;
    return params;
}

bitnet_model *load_model_or_report(const ModelOptions &options, const char *command) {
    bitnet_set_log_callback(bitnet_log_to_stderr, options.verbose ? BITNET_LOG_INFO : BITNET_LOG_WARN, nullptr);
    if (options.model_path.empty()) {
        std::fprintf(stderr, "bitnet %s: no model given (-m FILE)\n", command);
        return nullptr;
    }
    bitnet_model_params params = bitnet_model_default_params();
    params.head_type = options.head_type;
    params.use_mmap = options.use_mmap;
    params.use_mlock = options.use_mlock;
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_file(options.model_path.c_str(), &params, &model);
    if (status != BITNET_OK) {
        report_failure(command, status);
        return nullptr;
    }
    return model;
}

}  // namespace bitnet_cli
