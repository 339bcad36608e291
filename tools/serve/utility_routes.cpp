// The endpoints around generation: GET / (the chat page), GET /health, GET /v1/models, GET /metrics, POST /tokenize and
// POST /detokenize (llama-server's shapes: {"content", "add_special", "parse_special"} -> {"tokens"},
// {"tokens"} -> {"content"}).
#include <ctime>

#include <nlohmann/json.hpp>

#include "chat_page.h"
#include "server_state.h"
#include "tokenize_text.h"

namespace bitnet_serve {
namespace {

using nlohmann::json;

// Parses a small JSON object body whose fields are all in `known`; an ApiError otherwise.
std::optional<ApiError> parse_object(const std::string &body, std::initializer_list<const char *> known, json *out) {
    try {
        *out = json::parse(body);
    } catch (const json::exception &error) {
        return bad_request(std::string("the body is not valid JSON: ") + error.what(), "invalid_json");
    }
    if (!out->is_object()) return bad_request("the body must be a JSON object", "invalid_type");
    for (const auto &[key, value] : out->items()) {
        bool found = false;
        for (const char *name : known) found = found || key == name;
        if (!found) return bad_request("unknown field '" + key + "'", "unknown_field");
    }
    return std::nullopt;
}

std::optional<ApiError> optional_bool(const json &object, const char *name, bool *value) {
    if (!object.contains(name)) return std::nullopt;
    if (!object[name].is_boolean()) return bad_request(std::string("'") + name + "' must be a boolean", "invalid_type");
    *value = object[name].get<bool>();
    return std::nullopt;
}

void send_json(httplib::Response &response, const json &body) {
    response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void tokenize(ServerState &state, const httplib::Request &request, httplib::Response &response) {
    json body;
    bool add_special = false, parse_special = true;
    std::optional<ApiError> error = parse_object(request.body, {"content", "add_special", "parse_special"}, &body);
    if (!error && (!body.contains("content") || !body["content"].is_string())) {
        error = bad_request("'content' must be a string", "invalid_type");
    }
    if (!error) error = optional_bool(body, "add_special", &add_special);
    if (!error) error = optional_bool(body, "parse_special", &parse_special);
    if (error) return send_error(response, *error);
    std::vector<int32_t> tokens;
    if (!tokenize_text(state.model, body["content"].get<std::string>(), add_special, parse_special, &tokens)) {
        return send_error(response, bad_request(std::string("cannot tokenize 'content': ") + bitnet_last_error()));
    }
    send_json(response, {{"tokens", tokens}});
}

void detokenize(ServerState &state, const httplib::Request &request, httplib::Response &response) {
    json body;
    std::optional<ApiError> error = parse_object(request.body, {"tokens"}, &body);
    if (!error && (!body.contains("tokens") || !body["tokens"].is_array())) {
        error = bad_request("'tokens' must be a list of token ids", "invalid_type");
    }
    std::vector<bitnet_token> tokens;
    const int32_t n_vocab = bitnet_model_n_vocab(state.model);
    for (size_t i = 0; !error && i < body["tokens"].size(); ++i) {
        const json &id = body["tokens"][i];
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= n_vocab ||
            (id.is_number_unsigned() && id.get<uint64_t>() >= static_cast<uint64_t>(n_vocab))) {
            error = bad_request("'tokens' entry " + std::to_string(i) + " is not a token id in [0, " +
                                std::to_string(n_vocab) + ")");
        } else {
            tokens.push_back(static_cast<bitnet_token>(id.get<int64_t>()));
        }
    }
    if (error) return send_error(response, *error);
    std::string text(tokens.size() * 8 + 16, '\0');
    const int32_t n_tokens = static_cast<int32_t>(tokens.size());
    int32_t n = bitnet_detokenize(state.model, tokens.data(), n_tokens, text.data(), static_cast<int32_t>(text.size()),
                                  false, false);
    if (n < 0 && n != BITNET_COUNT_ERROR) {
        text.resize(static_cast<size_t>(-n));
        n = bitnet_detokenize(state.model, tokens.data(), n_tokens, text.data(), -n, false, false);
    }
    if (n < 0) return send_error(response, ApiError{500, bitnet_last_error(), "server_error", ""});
    text.resize(static_cast<size_t>(n));
    send_json(response, {{"content", text}});
}

}  // namespace

void add_utility_routes(httplib::Server &server, ServerState &state) {
    server.Get("/", [](const httplib::Request &, httplib::Response &response) {
        response.set_content(kChatPageHtml, "text/html; charset=utf-8");
    });
    server.Get("/health", [&state](const httplib::Request &, httplib::Response &response) {
        if (!state.ready) {
            response.status = 503;
            return send_json(response, {{"status", "loading"}});
        }
        send_json(response, {{"status", "ok"}});
    });
    server.Get("/v1/models", [&state](const httplib::Request &, httplib::Response &response) {
        send_json(response, {{"object", "list"},
                             {"data", json::array({{{"id", state.model_id},
                                                    {"object", "model"},
                                                    {"created", static_cast<int64_t>(std::time(nullptr))},
                                                    {"owned_by", "bitnet"}}})}});
    });
    server.Get("/metrics", [&state](const httplib::Request &, httplib::Response &response) {
        response.set_content(state.metrics.render(state.scheduler->stats()), "text/plain; version=0.0.4");
    });
    server.Post("/tokenize", [&state](const httplib::Request &request, httplib::Response &response) {
        tokenize(state, request, response);
    });
    server.Post("/detokenize", [&state](const httplib::Request &request, httplib::Response &response) {
        detokenize(state, request, response);
    });
}

}  // namespace bitnet_serve
