#include "request_parser.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

namespace bitnet_serve {
namespace {

using nlohmann::json;

// Thrown inside this file only, turned into a ParseResult at the boundary.
struct Invalid {
    ApiError error;
};

[[noreturn]] void reject(const std::string &message, const char *code = "invalid_value") {
    throw Invalid{bad_request(message, code)};
}

// A number in [low, high] (JSON null counts as absent: the caller keeps its default).
float number_in(const json &value, const char *name, double low, double high) {
    if (!value.is_number()) reject(std::string("'") + name + "' must be a number", "invalid_type");
    const double number = value.get<double>();
    if (!std::isfinite(number) || number < low || number > high) {
        reject(std::string("'") + name + "' must be between " + json(low).dump() + " and " + json(high).dump());
    }
    return static_cast<float>(number);
}

int64_t integer_in(const json &value, const char *name, int64_t low, int64_t high) {
    if (!value.is_number_integer()) reject(std::string("'") + name + "' must be an integer", "invalid_type");
    // Unsigned values above INT64_MAX are out of range whatever [low, high] is.
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(high)) {
        reject(std::string("'") + name + "' must be between " + std::to_string(low) + " and " + std::to_string(high));
    }
    const int64_t number = value.get<int64_t>();
    if (number < low || number > high) {
        reject(std::string("'") + name + "' must be between " + std::to_string(low) + " and " + std::to_string(high));
    }
    return number;
}

bool boolean(const json &value, const char *name) {
    if (!value.is_boolean()) reject(std::string("'") + name + "' must be a boolean", "invalid_type");
    return value.get<bool>();
}

std::string string_of(const json &value, const char *name) {
    if (!value.is_string()) reject(std::string("'") + name + "' must be a string", "invalid_type");
    return value.get<std::string>();
}

std::vector<std::string> stop_strings(const json &value, const ParseLimits &limits) {
    std::vector<std::string> stop;
    if (value.is_string()) {
        stop.push_back(value.get<std::string>());
    } else if (value.is_array()) {
        for (const json &entry : value) {
            if (!entry.is_string()) reject("'stop' must be a string or a list of strings", "invalid_type");
            stop.push_back(entry.get<std::string>());
        }
    } else {
        reject("'stop' must be a string or a list of strings", "invalid_type");
    }
    if (stop.size() > limits.max_stop) reject("'stop' has more than " + std::to_string(limits.max_stop) + " strings");
    // Empty strings are dropped, not refused: llama-server skips them (params_from_json_cmpl), and
    // the stop filter ignores them anyway (tools/common/stop_filter.h).
    std::erase_if(stop, [](const std::string &s) { return s.empty(); });
    return stop;
}

// OpenAI's logit_bias: {"token id": bias in [-100, 100]}; -100 bans the token.
std::vector<std::pair<int32_t, float>> logit_biases(const json &value, const ParseLimits &limits) {
    if (!value.is_object()) reject("'logit_bias' must be an object of token ids to numbers", "invalid_type");
    std::vector<std::pair<int32_t, float>> biases;
    for (const auto &[key, bias] : value.items()) {
        char *end = nullptr;
        const long long id = std::strtoll(key.c_str(), &end, 10);
        if (key.empty() || *end || id < 0 || id >= limits.n_vocab) {
            reject("'logit_bias' key '" + key + "' is not a token id in [0, " + std::to_string(limits.n_vocab) + ")");
        }
        const float number = number_in(bias, "logit_bias", -100.0, 100.0);
        biases.emplace_back(static_cast<int32_t>(id), number <= -100.0f ? -INFINITY : number);
    }
    return biases;
}

// Message content: a string, or OpenAI's list of parts of which only {"type":"text"} is supported.
std::string message_content(const json &value) {
    if (value.is_string()) return value.get<std::string>();
    if (!value.is_array()) reject("message 'content' must be a string or a list of text parts", "invalid_type");
    std::string text;
    for (const json &part : value) {
        if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
            reject("message 'content' parts must be {\"type\": \"text\", \"text\": string}", "invalid_type");
        }
        text += part["text"].get<std::string>();
    }
    return text;
}

std::vector<ChatMessage> chat_messages(const json &value, const ParseLimits &limits) {
    if (!value.is_array()) reject("'messages' must be a list", "invalid_type");
    if (value.empty()) reject("'messages' must not be empty");
    if (value.size() > limits.max_messages) reject("'messages' has more than " + std::to_string(limits.max_messages));
    std::vector<ChatMessage> messages;
    for (const json &entry : value) {
        if (!entry.is_object()) reject("each message must be an object", "invalid_type");
        ChatMessage message;
        bool has_content = false;
        for (const auto &[key, field] : entry.items()) {
            if (key == "role") {
                message.role = string_of(field, "role");
                if (message.role != "system" && message.role != "user" && message.role != "assistant") {
                    reject("message role '" + message.role + "' is not system, user or assistant");
                }
            } else if (key == "content") {
                message.content = message_content(field);
                has_content = true;
            } else if (key == "name") {
                string_of(field, "name");  // accepted and ignored, as llama-server does
            } else {
                reject("unknown message field '" + key + "'", "unknown_field");
            }
        }
        if (message.role.empty()) reject("each message needs a 'role'", "missing_field");
        if (!has_content) reject("each message needs a 'content'", "missing_field");
        messages.push_back(std::move(message));
    }
    return messages;
}

std::vector<int32_t> token_list(const json &value, const ParseLimits &limits) {
    std::vector<int32_t> tokens;
    for (const json &entry : value) {
        tokens.push_back(static_cast<int32_t>(integer_in(entry, "prompt token", 0, limits.n_vocab - 1)));
    }
    return tokens;
}

// The fields both endpoints share. Returns false when `key` is none of them.
bool common_field(const std::string &key, const json &value, const ParseLimits &limits, GenerationRequest *request) {
    SamplingParams &sampling = request->sampling;
    if (key == "model") request->model = string_of(value, "model");
    else if (key == "max_tokens" || key == "max_completion_tokens")
        request->max_tokens = static_cast<int32_t>(integer_in(value, key.c_str(), 1, limits.max_tokens));
    else if (key == "temperature") sampling.temperature = number_in(value, "temperature", 0.0, 2.0);
    else if (key == "top_p") sampling.top_p = number_in(value, "top_p", 0.0, 1.0);
    else if (key == "top_k") sampling.top_k = static_cast<int32_t>(integer_in(value, "top_k", 0, limits.n_vocab));
    else if (key == "min_p") sampling.min_p = number_in(value, "min_p", 0.0, 1.0);
    else if (key == "presence_penalty") sampling.presence_penalty = number_in(value, "presence_penalty", -2.0, 2.0);
    else if (key == "frequency_penalty") sampling.frequency_penalty = number_in(value, "frequency_penalty", -2.0, 2.0);
    else if (key == "seed") sampling.seed = static_cast<uint32_t>(integer_in(value, "seed", 0, 0xFFFFFFFEll));
    else if (key == "stop") request->stop = stop_strings(value, limits);
    else if (key == "logit_bias") sampling.logit_bias = logit_biases(value, limits);
    else if (key == "n") integer_in(value, "n", 1, 1);  // one choice per request
    else if (key == "stream") request->stream = boolean(value, "stream");
    else if (key == "stream_options") {
        if (!value.is_object()) reject("'stream_options' must be an object", "invalid_type");
        for (const auto &[option, option_value] : value.items()) {
            if (option != "include_usage") reject("unknown stream option '" + option + "'", "unknown_field");
            request->include_usage = boolean(option_value, "include_usage");
        }
    } else if (key == "user") string_of(value, "user");  // an end-user id for abuse tracking: ignored
    else return false;
    return true;
}

// The body as a JSON object into *document, or the 400 that says why it is not one.
std::optional<ApiError> parse_json_object(std::string_view body, json *document) {
    try {
        *document = json::parse(body.begin(), body.end());
    } catch (const json::exception &error) {
        return bad_request(std::string("the body is not valid JSON: ") + error.what(), "invalid_json");
    }
    if (!document->is_object()) return bad_request("the body must be a JSON object", "invalid_type");
    return std::nullopt;
}

using FieldParser = bool (*)(const std::string &, const json &, const ParseLimits &, GenerationRequest *);

ParseResult parse_request(std::string_view body, const ParseLimits &limits, FieldParser endpoint_field,
                          const char *required_field) {
    try {
        json document;
        if (std::optional<ApiError> error = parse_json_object(body, &document)) return *error;
        GenerationRequest request;
        for (const auto &[key, value] : document.items()) {
            if (value.is_null() && key != required_field) continue;  // null means "the default"
            if (!endpoint_field(key, value, limits, &request) && !common_field(key, value, limits, &request)) {
                reject("unknown field '" + key + "'", "unknown_field");
            }
        }
        if (!document.contains(required_field)) {
            reject(std::string("'") + required_field + "' is required", "missing_field");
        }
        return request;
    } catch (const Invalid &invalid) {
        return invalid.error;
    } catch (const std::exception &error) {  // nlohmann conversions: a bug here, but never a crash
        return bad_request(std::string("invalid request: ") + error.what());
    }
}

bool chat_field(const std::string &key, const json &value, const ParseLimits &limits, GenerationRequest *request) {
    if (key != "messages") return false;
    request->messages = chat_messages(value, limits);
    return true;
}

bool completion_field(const std::string &key, const json &value, const ParseLimits &limits,
                      GenerationRequest *request) {
    if (key != "prompt") return false;
    if (value.is_string()) {
        request->prompt_text = value.get<std::string>();
    } else if (value.is_array() && value.size() == 1 && value[0].is_string()) {
        request->prompt_text = value[0].get<std::string>();  // a batch of one prompt
    } else if (value.is_array() && !value.empty() && value[0].is_number()) {
        request->prompt_tokens = token_list(value, limits);
        request->prompt_is_tokens = true;
    } else if (value.is_array() && !value.empty()) {
        reject("'prompt' must be a string, a list of one string, or a list of token ids (one prompt per request)");
    } else {
        reject("'prompt' must be a non-empty string or list of token ids", value.is_array() ? "invalid_value"
                                                                                            : "invalid_type");
    }
    if (!request->prompt_is_tokens && request->prompt_text.empty()) reject("'prompt' must not be empty");
    return true;
}

std::vector<std::string> embedding_texts(const json &value) {
    std::vector<std::string> texts;
    if (value.is_string()) texts.push_back(value.get<std::string>());
    for (const json &entry : value.is_array() ? value : json::array()) texts.push_back(string_of(entry, "input"));
    return texts;
}

EmbeddingRequest embedding_request(const json &document, const ParseLimits &limits) {
    EmbeddingRequest request;
    if (!document.contains("input")) reject("'input' is required", "missing_field");
    for (const auto &[key, value] : document.items()) {
        if (key == "model") {
            if (!value.is_null()) request.model = string_of(value, "model");
        } else if (key == "user") {
            if (!value.is_null()) string_of(value, "user");
        } else if (key == "encoding_format") {
            if (!value.is_null() && string_of(value, "encoding_format") != "float") {
                reject("only 'encoding_format': 'float' is supported");
            }
        } else if (key != "input") {
            reject("unknown field '" + key + "'", "unknown_field");
        }
    }
    const json &input = document["input"];
    if (!input.is_string() && !input.is_array()) reject("'input' must be a string or a list", "invalid_type");
    if (input.is_array() && input.empty()) reject("'input' must not be empty");
    if (input.is_array() && input[0].is_number()) {
        request.token_lists.push_back(token_list(input, limits));
    } else if (input.is_array() && input[0].is_array()) {
        for (const json &list : input) {
            if (!list.is_array() || list.empty()) reject("each token list of 'input' must be a non-empty list", "invalid_type");
            request.token_lists.push_back(token_list(list, limits));
        }
    } else {
        request.texts = embedding_texts(input);
        for (const std::string &text : request.texts) {
            if (text.empty()) reject("'input' strings must not be empty");
        }
    }
    if (request.texts.size() + request.token_lists.size() > 256) reject("'input' has more than 256 entries");
    return request;
}

}  // namespace

EmbeddingParseResult parse_embedding_request(std::string_view body, const ParseLimits &limits) {
    try {
        json document;
        if (std::optional<ApiError> error = parse_json_object(body, &document)) return *error;
        return embedding_request(document, limits);
    } catch (const Invalid &invalid) {
        return invalid.error;
    } catch (const std::exception &error) {
        return bad_request(std::string("invalid request: ") + error.what());
    }
}

ParseResult parse_chat_request(std::string_view body, const ParseLimits &limits) {
    return parse_request(body, limits, chat_field, "messages");
}

ParseResult parse_completion_request(std::string_view body, const ParseLimits &limits) {
    return parse_request(body, limits, completion_field, "prompt");
}

}  // namespace bitnet_serve
