#include "embedder.h"

#include <cmath>
#include <string>

namespace bitnet_serve {

namespace {
// Every token of a chunk asks for an output (its hidden state); n_outputs_max bounds the logits
// memory the context reserves for that (chunk x n_vocab floats).
constexpr uint32_t kChunk = 64;
}  // namespace

Embedder::Embedder(const bitnet_model *model, const bitnet_context_params &base_params, uint32_t n_ctx)
    : model_(model), params_(base_params), n_ctx_(n_ctx) {
    params_.n_ctx = n_ctx;
    params_.n_seq_max = 1;
    params_.n_batch = kChunk;
    params_.n_outputs_max = kChunk;
    params_.embeddings = true;
}

Embedder::~Embedder() {
    bitnet_batch_free(batch_);
    bitnet_context_free(context_);
}

std::optional<ApiError> Embedder::embed(const std::vector<int32_t> &tokens, std::vector<float> *embedding) {
    if (tokens.empty() || tokens.size() > n_ctx_) {
        return bad_request("an input has " + std::to_string(tokens.size()) + " tokens; embeddings take 1 to " +
                               std::to_string(n_ctx_),
                           "context_length_exceeded");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const auto failure = [](const char *what) {
        return ApiError{500, std::string(what) + ": " + bitnet_last_error(), "server_error", "embedding_failed"};
    };
    if (!context_ && bitnet_context_new(model_, &params_, &context_) != BITNET_OK) return failure("embedding context");
    if (!batch_ && bitnet_batch_new(static_cast<int32_t>(kChunk), &batch_) != BITNET_OK) return failure("batch");
    bitnet_memory_clear(context_);
    const size_t n_embd = static_cast<size_t>(bitnet_model_n_embd(model_));
    std::vector<double> sum(n_embd, 0.0);
    const int32_t seq = 0;
    for (size_t first = 0; first < tokens.size(); first += kChunk) {
        const size_t count = std::min<size_t>(kChunk, tokens.size() - first);
        bitnet_batch_clear(batch_);
        for (size_t i = 0; i < count; ++i) {
            bitnet_batch_add(batch_, tokens[first + i], static_cast<int32_t>(first + i), &seq, 1, true);
        }
        if (bitnet_decode(context_, batch_) != BITNET_OK) return failure("decode");
        for (size_t i = 0; i < count; ++i) {
            const float *hidden = bitnet_get_embeddings(context_, static_cast<int32_t>(i));
            if (!hidden) return failure("hidden state");
            for (size_t k = 0; k < n_embd; ++k) sum[k] += hidden[k];
        }
    }
    double norm = 0.0;
    for (double &value : sum) {
        value /= static_cast<double>(tokens.size());
        norm += value * value;
    }
    norm = std::sqrt(norm);
    embedding->resize(n_embd);
    for (size_t k = 0; k < n_embd; ++k) (*embedding)[k] = static_cast<float>(norm > 0 ? sum[k] / norm : 0.0);
    return std::nullopt;
}

}  // namespace bitnet_serve
