// Options shared by the subcommands that run a model (run, logits, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bitnet.h"

namespace bitnet_cli {

struct ModelOptions {
    std::string model_path;
    int32_t n_threads = 0;
    uint32_t n_ctx = 0;
    bitnet_kv_type kv_type = BITNET_KV_F16;
    bool quantize_activations = true;
    bitnet_backend_type backend = BITNET_BACKEND_AUTO;
    bitnet_head_type head_type = BITNET_HEAD_AS_STORED;
    bool use_mmap = true;
    bool use_mlock = false;
    bool verbose = false;
};

// Consumes argv[*i] (and its value) if it is a model option; returns false if it is not one.
// Sets *error on a malformed value.
bool parse_model_option(int argc, char **argv, int *i, ModelOptions *options, std::string *error);
extern const char *const kModelOptionsHelp;

// "1 2 3" or "1,2,3" -> ids; false on anything else.
bool parse_token_list(const std::string &text, std::vector<bitnet_token> *tokens);

// Context parameters from the options (n_ctx, threads, KV type, activation mode, backend).
bitnet_context_params context_params(const ModelOptions &options);

// Loads the model (logging to stderr when verbose); prints the failure and returns null.
bitnet_model *load_model_or_report(const ModelOptions &options, const char *command);

}  // namespace bitnet_cli
