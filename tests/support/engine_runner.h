// Running the engine through the public C API in tests: load, decode a token sequence in one
// batch or token by token, collect logits. Failures become GoogleTest failures.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bitnet.h"

namespace bitnet_test {

struct ModelDeleter {
    void operator()(bitnet_model *model) const { bitnet_model_free(model); }
};
struct ContextDeleter {
    void operator()(bitnet_context *context) const { bitnet_context_free(context); }
};
struct BatchDeleter {
    void operator()(bitnet_batch *batch) const { bitnet_batch_free(batch); }
};
using ModelPtr = std::unique_ptr<bitnet_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<bitnet_context, ContextDeleter>;
using BatchPtr = std::unique_ptr<bitnet_batch, BatchDeleter>;

ModelPtr load_model(const std::string &path);

struct RunOptions {
    bool quantize_activations = true;
    bitnet_kv_type kv_type = BITNET_KV_F32;
    bool one_batch = true;  // false: one decode call per token
    int32_t n_threads = 2;
    bitnet_backend_type backend = BITNET_BACKEND_CPU;
};

ContextPtr make_context(const bitnet_model *model, const RunOptions &options, uint32_t n_tokens,
                        uint32_t n_seq_max = 1);

// Logits of every position of `tokens` (sequence 0, from position 0).
std::vector<std::vector<float>> engine_logits(const bitnet_model *model, const std::vector<int> &tokens,
                                              const RunOptions &options);

// Decode `tokens` of sequence `seq` starting at `first_pos` in one batch, all asking for logits.
bitnet_status decode_tokens(bitnet_context *context, const std::vector<int> &tokens, int32_t first_pos, int32_t seq,
                            bool all_logits = true);

std::vector<float> logits_copy(bitnet_context *context, int32_t entry, int32_t n_vocab);

}  // namespace bitnet_test
