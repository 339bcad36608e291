// POST /v1/embeddings (https://platform.openai.com/docs/api-reference/embeddings): texts are
// tokenized as completion prompts are (BOS as the model asks); see embedder.h for the pooling.
#include <nlohmann/json.hpp>

#include "embedder.h"
#include "server_state.h"
#include "tokenize_text.h"

namespace bitnet_serve {
namespace {

using nlohmann::json;

void handle_embeddings(ServerState &state, const httplib::Request &http_request, httplib::Response &response) {
    EmbeddingParseResult parsed = parse_embedding_request(http_request.body, state.limits);
    if (auto *error = std::get_if<ApiError>(&parsed)) return send_error(response, *error);
    EmbeddingRequest &request = std::get<EmbeddingRequest>(parsed);
    if (!request.model.empty() && request.model != state.model_id) {
        return send_error(response, ApiError{404, "the model '" + request.model + "' does not exist", "invalid_request_error",
                                             "model_not_found"});
    }
    for (const std::string &text : request.texts) {
        std::vector<int32_t> tokens;
        if (!tokenize_text(state.model, text, true, false, &tokens)) {
            return send_error(response, bad_request(std::string("cannot tokenize an input: ") + bitnet_last_error()));
        }
        request.token_lists.push_back(std::move(tokens));
    }
    json data = json::array();
    int64_t total_tokens = 0;
    for (size_t i = 0; i < request.token_lists.size(); ++i) {
        std::vector<float> embedding;
        if (auto error = state.embedder->embed(request.token_lists[i], &embedding)) return send_error(response, *error);
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", embedding}});
        total_tokens += static_cast<int64_t>(request.token_lists[i].size());
    }
    state.note_tokens(http_request, static_cast<int32_t>(total_tokens), 0);
    const json body = {{"object", "list"},
                       {"data", std::move(data)},
                       {"model", state.model_id},
                       {"usage", {{"prompt_tokens", total_tokens}, {"total_tokens", total_tokens}}}};
    response.set_content(body.dump(), "application/json");
}

}  // namespace

void add_embedding_routes(httplib::Server &server, ServerState &state) {
    server.Post("/v1/embeddings", [&state](const httplib::Request &request, httplib::Response &response) {
        handle_embeddings(state, request, response);
    });
}

}  // namespace bitnet_serve
