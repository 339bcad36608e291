// Parsing and validating the JSON bodies of the generation endpoints, from bytes to a request or
// an OpenAI-style error. These functions need no model and no server: a fuzz target can call them
// on any bytes (they never throw and never crash).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api_error.h"

namespace bitnet_serve {

// The sampler settings of one request. The defaults are `bitnet run`'s, so a request that sets only
// `seed` samples what `bitnet run --seed` does.
struct SamplingParams {
    float temperature = 0.8f;  // <= 0: greedy
    int32_t top_k = 40;        // 0: off
    float top_p = 0.95f;       // 1: off
    float min_p = 0.05f;       // 0: off
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    uint32_t seed = 0xFFFFFFFFu;  // BITNET_DEFAULT_SEED: random
    std::vector<std::pair<int32_t, float>> logit_bias;  // token id, bias (-100 bans the token)
};

struct ChatMessage {
    std::string role;  // system, user or assistant
    std::string content;
};

// One /v1/chat/completions or /v1/completions request after validation.
struct GenerationRequest {
    std::string model;                  // "" when the client sent none
    std::vector<ChatMessage> messages;  // chat only
    std::string prompt_text;            // completions: a text prompt ...
    std::vector<int32_t> prompt_tokens; // ... or a token list (then prompt_is_tokens)
    bool prompt_is_tokens = false;
    int32_t max_tokens = -1;            // -1: not given (the server fills the slot's context)
    SamplingParams sampling;
    std::vector<std::string> stop;
    bool stream = false;
    bool include_usage = false;         // stream_options.include_usage
};

// What the parser checks against the server's configuration.
struct ParseLimits {
    int32_t n_vocab = 0;           // token ids (prompt lists, logit_bias keys) must be below it
    int32_t max_tokens = 1 << 16;  // the largest max_tokens a client may ask for
    size_t max_stop = 4;           // OpenAI's limit on stop strings
    size_t max_messages = 1024;
};

// One /v1/embeddings request: each input is a text or a token list.
struct EmbeddingRequest {
    std::string model;
    std::vector<std::string> texts;                 // text inputs ...
    std::vector<std::vector<int32_t>> token_lists;  // ... or token-list inputs (one kind per request)
};

using ParseResult = std::variant<GenerationRequest, ApiError>;
using EmbeddingParseResult = std::variant<EmbeddingRequest, ApiError>;

// POST /v1/chat/completions.
ParseResult parse_chat_request(std::string_view body, const ParseLimits &limits);
// POST /v1/completions.
ParseResult parse_completion_request(std::string_view body, const ParseLimits &limits);
// POST /v1/embeddings: "input" a string, a list of strings, a token list or a list of token lists.
EmbeddingParseResult parse_embedding_request(std::string_view body, const ParseLimits &limits);

}  // namespace bitnet_serve
