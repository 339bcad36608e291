// POST /v1/embeddings: the mean of the final hidden states (after the output norm) of an input's
// tokens, scaled to unit length. It runs on its own small context, one request at a time, beside
// the generation scheduler (a model may be shared by any number of contexts).
#pragma once

#include <mutex>
#include <optional>
#include <vector>

#include "api_error.h"
#include "bitnet.h"

namespace bitnet_serve {

class Embedder {
public:
    Embedder(const bitnet_model *model, const bitnet_context_params &base_params, uint32_t n_ctx);
    ~Embedder();
    Embedder(const Embedder &) = delete;
    Embedder &operator=(const Embedder &) = delete;

    uint32_t max_tokens() const { return n_ctx_; }
    // The embedding of `tokens` (n_embd floats), or an error.
    std::optional<ApiError> embed(const std::vector<int32_t> &tokens, std::vector<float> *embedding);

private:
    const bitnet_model *model_;
    bitnet_context_params params_;
    uint32_t n_ctx_;
    std::mutex mutex_;
    bitnet_context *context_ = nullptr;  // made at the first request: a server may never need it
    bitnet_batch *batch_ = nullptr;
};

}  // namespace bitnet_serve
