// bitnet serve: the OpenAI-compatible HTTP server (tools/serve/, docs/serving.md). This file reads
// the options; the server itself lives in tools/serve because it links an HTTP and a JSON library.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "../serve/server.h"
#include "command.h"

namespace {

const char *const kUsage =
    "usage: bitnet serve -m MODEL [options]\n"
    "  -m, --model FILE      GGUF model\n"
    "  --host ADDRESS        address to listen on (default 127.0.0.1: this machine only)\n"
    "  --port N              port (default 8080; 0 = any free port, printed)\n"
    "  --parallel N          sequences decoded together (slots, default 4, at most 64)\n"
    "  -c, --ctx-size N      KV cache tokens shared equally by the slots (default: model's, at most 4096)\n"
    "  --api-key KEY         require 'Authorization: Bearer KEY' on every endpoint but /health\n"
    "  --api-key-file FILE   the same, the key read from FILE's first line\n"
    "  --alias NAME          model id in the API (default: the file's name without .gguf)\n"
    "  --max-queue N         requests waiting for a slot before 503 (default 64)\n"
    "  --timeout S           longest a request may take in seconds, queue included (default 600)\n"
    "  --max-body BYTES      largest request body (default 1048576)\n"
    "  --max-tokens N        largest max_tokens a client may ask for (default 4096)\n"
    "  -t, --threads N       CPU threads (default: all available)\n"
    "  --backend NAME        auto, cpu or vulkan (default auto)\n"
    "  --draft-model FILE    speculative decoding: a smaller model with the same vocabulary drafts tokens\n"
    "  --lookup N            speculative decoding by prompt lookup: N = the n-gram size, the last N tokens\n"
    "                        are matched earlier in the request's context and what followed is the draft\n"
    "  --draft-max N         most tokens drafted per step, verified in one decode (default 8, 1..64)\n"
    "                        (responses then carry timings.draft_n and timings.draft_n_accepted)\n";

bool parse_number(const char *text, double low, double high, double *out) {
    char *end = nullptr;
    const double value = std::strtod(text, &end);
    if (!*text || *end || !(value >= low && value <= high)) return false;
    *out = value;
    return true;
}

int serve(int argc, char **argv) {
    bitnet_serve::ServeOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "bitnet serve: unknown option or missing value: '%s'\n%s", arg.c_str(), kUsage);
            return 2;
        }
        const char *value = argv[++i];
        double number = 0;
        bool ok = true;
        if (arg == "-m" || arg == "--model") options.model_path = value;
        else if (arg == "--host") options.host = value;
        else if (arg == "--port" && (ok = parse_number(value, 0, 65535, &number))) options.port = static_cast<int>(number);
        else if (arg == "--parallel" && (ok = parse_number(value, 1, 64, &number))) options.parallel = static_cast<int32_t>(number);
        else if ((arg == "-c" || arg == "--ctx-size") && (ok = parse_number(value, 0, 1 << 20, &number)))
            options.n_ctx = static_cast<uint32_t>(number);
        else if (arg == "--api-key") options.api_key = value;
        else if (arg == "--api-key-file") {
            std::ifstream file(value);
            ok = file && std::getline(file, options.api_key) && !options.api_key.empty();
        } else if (arg == "--alias") options.alias = value;
        else if (arg == "--max-queue" && (ok = parse_number(value, 0, 100000, &number))) options.max_queue = static_cast<size_t>(number);
        else if (arg == "--timeout" && (ok = parse_number(value, 0.001, 1e7, &number))) options.timeout_s = number;
        else if (arg == "--max-body" && (ok = parse_number(value, 1, 1e10, &number))) options.max_body_bytes = static_cast<size_t>(number);
        else if (arg == "--max-tokens" && (ok = parse_number(value, 1, 1 << 24, &number))) options.max_tokens = static_cast<int32_t>(number);
        else if ((arg == "-t" || arg == "--threads") && (ok = parse_number(value, 0, 1024, &number))) options.n_threads = static_cast<int32_t>(number);
        else if (arg == "--draft-model") options.draft_model_path = value;
        else if (arg == "--lookup" && (ok = parse_number(value, 1, 16, &number))) options.lookup = static_cast<int32_t>(number);
        else if (arg == "--draft-max" && (ok = parse_number(value, 1, 64, &number))) options.draft_max = static_cast<int32_t>(number);
        else if (arg == "--backend") {
            if (!std::strcmp(value, "auto")) options.backend = BITNET_BACKEND_AUTO;
            else if (!std::strcmp(value, "cpu")) options.backend = BITNET_BACKEND_CPU;
            else if (!std::strcmp(value, "vulkan")) options.backend = BITNET_BACKEND_VULKAN;
            else ok = false;
        } else if (ok) {
            std::fprintf(stderr, "bitnet serve: unknown option '%s'\n%s", arg.c_str(), kUsage);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "bitnet serve: bad value '%s' for %s\n", value, arg.c_str());
            return 2;
        }
    }
    if (options.model_path.empty()) {
        std::fprintf(stderr, "bitnet serve: -m MODEL is required\n%s", kUsage);
        return 2;
    }
    if (!options.draft_model_path.empty() && options.lookup > 0) {
        std::fprintf(stderr, "bitnet serve: --draft-model and --lookup are two draft sources: choose one\n");
        return 2;
    }
    return bitnet_serve::run_server(options);
}

bitnet_cli::CommandRegistration registration("serve", "serve a model over an OpenAI-compatible HTTP API", serve);

}  // namespace
