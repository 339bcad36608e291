// `bitnet serve`: an OpenAI-compatible HTTP server over one model (docs/serving.md). This header is
// all the CLI sees: plain C++ and bitnet.h, no HTTP or JSON library.
#pragma once

#include <cstdint>
#include <string>

#include "bitnet.h"

namespace bitnet_serve {

struct ServeOptions {
    std::string model_path;
    std::string host = "127.0.0.1";
    int port = 8080;                 // 0: any free port (the chosen one is printed)
    int32_t parallel = 4;            // slots: sequences decoded together
    uint32_t n_ctx = 0;              // whole KV cache, shared equally by the slots; 0: the model's (at most 4096)
    int32_t n_threads = 0;
    bitnet_backend_type backend = BITNET_BACKEND_AUTO;
    std::string api_key;             // "": no authentication
    std::string alias;               // model id in the API; "": the model file's name
    size_t max_queue = 64;           // requests waiting for a slot; more get 503
    double timeout_s = 600;          // longest a request may take, queue included
    size_t max_body_bytes = 1 << 20;
    int32_t max_tokens = 4096;       // the largest max_tokens a client may ask for
    // Speculative decoding: a draft model with the model's vocabulary, or prompt lookup matching
    // the last `lookup` tokens (0: off); up to draft_max drafted tokens verified per decode.
    std::string draft_model_path;
    int32_t lookup = 0;
    int32_t draft_max = 8;
};

// Loads the model (while /health answers 503 "loading"), serves until SIGTERM or SIGINT, then
// drains: stops accepting, lets running requests finish (up to timeout_s) and returns 0.
// Returns 1 when the model cannot be loaded or the port cannot be bound.
int run_server(const ServeOptions &options);

}  // namespace bitnet_serve
