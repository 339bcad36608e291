// POST /v1/chat/completions and POST /v1/completions: validate, turn the request into prompt
// tokens, queue it on the scheduler, and answer with one JSON body or a stream of server-sent
// events (https://platform.openai.com/docs/api-reference/chat-streaming) ending in "data: [DONE]".
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "server_state.h"
#include "tokenize_text.h"

namespace bitnet_serve {
namespace {

using nlohmann::json;

enum class Endpoint { chat, completion };

std::string dump(const json &value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// The prompt's tokens: a chat is rendered with the model's template and tokenized with its special
// tokens recognised; a completion text is tokenized as `bitnet run -p` does (BOS as the model asks,
// special-token text as plain text); a token list is used as it is.
std::optional<ApiError> prompt_tokens(const ServerState &state, Endpoint endpoint, const GenerationRequest &request,
                                      std::vector<int32_t> *tokens) {
    if (request.prompt_is_tokens) {
        *tokens = request.prompt_tokens;
        return std::nullopt;
    }
    std::string text = request.prompt_text;
    bool add_special = true, parse_special = false;
    if (endpoint == Endpoint::chat) {
        std::vector<bitnet_chat_message> messages;
        for (const ChatMessage &m : request.messages) messages.push_back({m.role.c_str(), m.content.c_str()});
        for (const ChatMessage &m : request.messages) {
            if (m.content.find('\0') != std::string::npos) return bad_request("message content must not contain NUL");
        }
        int32_t n = bitnet_chat_apply_template(state.model, nullptr, messages.data(), messages.size(), true, nullptr, 0);
        if (n < 0 && n != BITNET_COUNT_ERROR) {
            text.assign(static_cast<size_t>(-n), '\0');
            n = bitnet_chat_apply_template(state.model, nullptr, messages.data(), messages.size(), true, text.data(),
                                           static_cast<int32_t>(text.size()));
        }
        if (n < 0) return bad_request(std::string("the chat template cannot render these messages: ") + bitnet_last_error());
        text.resize(static_cast<size_t>(n));
        add_special = false;
        parse_special = true;
    }
    if (!tokenize_text(state.model, text, add_special, parse_special, tokens)) {
        return bad_request(std::string("the prompt cannot be tokenized: ") + bitnet_last_error());
    }
    if (tokens->empty()) return bad_request("the prompt has no tokens");
    return std::nullopt;
}

// Checks the request against the model and the slot's context and makes its job.
std::optional<ApiError> make_job(const ServerState &state, Endpoint endpoint, const GenerationRequest &request,
                                 std::shared_ptr<Job> *out) {
    if (!request.model.empty() && request.model != state.model_id) {
        return ApiError{404, "the model '" + request.model + "' does not exist; this server has '" + state.model_id + "'",
                        "invalid_request_error", "model_not_found"};
    }
    auto job = std::make_shared<Job>();
    if (auto error = prompt_tokens(state, endpoint, request, &job->prompt)) return error;
    const int64_t room = state.scheduler->slot_context();
    const int64_t prompt = static_cast<int64_t>(job->prompt.size());
    if (prompt >= room) {
        return bad_request("the prompt has " + std::to_string(prompt) + " tokens; a slot holds " + std::to_string(room) +
                               " (prompt and completion together)",
                           "context_length_exceeded");
    }
    // Without max_tokens a completion ends at 16 tokens (OpenAI's default); a chat fills the slot.
    int64_t max_tokens = request.max_tokens;
    if (max_tokens < 0) max_tokens = endpoint == Endpoint::completion ? std::min<int64_t>(16, room - prompt) : room - prompt;
    if (prompt + max_tokens > room) {
        return bad_request("the prompt's " + std::to_string(prompt) + " tokens and max_tokens " +
                               std::to_string(max_tokens) + " exceed a slot's " + std::to_string(room) + " tokens",
                           "context_length_exceeded");
    }
    job->max_tokens = static_cast<int32_t>(std::min<int64_t>(max_tokens, state.options.max_tokens));
    job->sampling = request.sampling;
    job->stop = request.stop;
    job->deadline = job->created + std::chrono::microseconds(static_cast<int64_t>(state.options.timeout_s * 1e6));
    *out = std::move(job);
    return std::nullopt;
}

// llama-server's `timings` extension, with its speculative decoding counts.
json timings_json(const JobOutcome &outcome) {
    return {{"draft_n", outcome.draft_n}, {"draft_n_accepted", outcome.draft_n_accepted}};
}

json usage_json(const JobOutcome &outcome) {
    return {{"prompt_tokens", outcome.prompt_tokens},
            {"completion_tokens", outcome.completion_tokens},
            {"total_tokens", outcome.prompt_tokens + outcome.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", outcome.cached_tokens}}}};
}

// One choice of a response or a stream chunk. finish_reason null while streaming.
json choice_json(Endpoint endpoint, bool chunk, const std::string &text, const json &finish_reason, bool first) {
    if (endpoint == Endpoint::completion) {
        return {{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
    }
    json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
    if (!chunk) {
        choice["message"] = {{"role", "assistant"}, {"content", text}};
    } else {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (!text.empty() || first) delta["content"] = text;
        choice["delta"] = delta;
    }
    return choice;
}

struct ResponseHeader {
    std::string id;
    std::string object;
    int64_t created;
    std::string model;
    json with(json choices) const {
        return {{"id", id}, {"object", object}, {"created", created}, {"model", model}, {"choices", std::move(choices)}};
    }
};

ResponseHeader response_header(const ServerState &state, Endpoint endpoint, bool chunk) {
    static std::atomic<uint64_t> counter{0};
    ResponseHeader header;
    header.id = (endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-") + std::to_string(std::time(nullptr)) + "-" +
                std::to_string(++counter);
    header.object = endpoint == Endpoint::completion ? "text_completion"
                    : chunk                          ? "chat.completion.chunk"
                                                     : "chat.completion";
    header.created = static_cast<int64_t>(std::time(nullptr));
    header.model = state.model_id;
    return header;
}

// The log line's token counts (the metrics are counted by the scheduler's callback).
void record_outcome(ServerState &state, const httplib::Request &http_request, const JobOutcome &outcome) {
    state.note_tokens(http_request, outcome.prompt_tokens, outcome.completion_tokens);
}

void stream_response(ServerState &state, const httplib::Request &http_request, httplib::Response &response,
                     Endpoint endpoint, const GenerationRequest &request, std::shared_ptr<Job> job) {
    const ResponseHeader header = response_header(state, endpoint, true);
    const bool include_usage = request.include_usage;
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider(
        "text/event-stream",
        [&state, &http_request, endpoint, header, include_usage, job](size_t, httplib::DataSink &sink) {
            auto send = [&](const std::string &data) {
                const std::string event = "data: " + data + "\n\n";
                return sink.write(event.data(), event.size());
            };
            // A failed write means the client is gone: the scheduler frees the slot at its next step.
            bool first = true;
            std::string text;
            while (job->next_text(&text)) {
                if (!send(dump(header.with(json::array({choice_json(endpoint, true, text, nullptr, first)}))))) {
                    job->cancelled = true;
                    return false;
                }
                first = false;
            }
            const JobOutcome outcome = job->outcome();
            record_outcome(state, http_request, outcome);
            bool ok = true;
            if (outcome.error) {
                ok = send(error_body(*outcome.error));
            } else {
                ok = send(dump(header.with(json::array({choice_json(endpoint, true, "", outcome.finish_reason, first)}))));
                if (ok && include_usage) {
                    json usage = header.with(json::array());
                    usage["usage"] = usage_json(outcome);
                    if (outcome.speculative) usage["timings"] = timings_json(outcome);
                    ok = send(dump(usage));
                }
            }
            if (ok) ok = send("[DONE]");
            if (ok) sink.done();
            return ok;
        },
        [job](bool) { job->cancelled = true; });  // no-op after a normal end: the job is finished
}

void handle_generation(ServerState &state, Endpoint endpoint, const httplib::Request &http_request,
                       httplib::Response &response) {
    ParseResult parsed = endpoint == Endpoint::chat ? parse_chat_request(http_request.body, state.limits)
                                                    : parse_completion_request(http_request.body, state.limits);
    if (auto *error = std::get_if<ApiError>(&parsed)) return send_error(response, *error);
    const GenerationRequest &request = std::get<GenerationRequest>(parsed);
    std::shared_ptr<Job> job;
    if (auto error = make_job(state, endpoint, request, &job)) return send_error(response, *error);
    if (!state.scheduler->submit(job)) {
        return send_error(response, ApiError{503, "the server is busy: every slot and queue place is taken", "server_error",
                                             "queue_full"});
    }
    if (request.stream) return stream_response(state, http_request, response, endpoint, request, std::move(job));

    const std::string text = job->wait_all();
    const JobOutcome outcome = job->outcome();
    record_outcome(state, http_request, outcome);
    if (outcome.error) return send_error(response, *outcome.error);
    const ResponseHeader header = response_header(state, endpoint, false);
    json body = header.with(json::array({choice_json(endpoint, false, text, outcome.finish_reason, true)}));
    body["usage"] = usage_json(outcome);
    if (outcome.speculative) body["timings"] = timings_json(outcome);
    response.set_content(dump(body), "application/json");
}

}  // namespace

void add_generation_routes(httplib::Server &server, ServerState &state) {
    server.Post("/v1/chat/completions", [&state](const httplib::Request &request, httplib::Response &response) {
        handle_generation(state, Endpoint::chat, request, response);
    });
    server.Post("/v1/completions", [&state](const httplib::Request &request, httplib::Response &response) {
        handle_generation(state, Endpoint::completion, request, response);
    });
}

}  // namespace bitnet_serve
