// `bitnet serve` against bad requests: a table of malformed, ill-typed, out-of-range, oversized and
// unauthenticated requests, each answered with its documented status and an OpenAI-style JSON
// error; afterwards the server still answers a good request exactly as before. Also the request
// parser alone, on every prefix of a valid body (the bytes a fuzz target would feed it).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "request_parser.h"
#include "support/serve_client.h"

namespace {

using bitnet_test::json;

const char *const kKey = "test-key-0123456789";

struct BadRequest {
    const char *what;
    const char *path;
    std::string body;
    int status;
    const char *code;  // the error's "code", or nullptr to accept any
    const char *authorization = nullptr;  // nullptr: the right key
};

std::string chat_with(const std::string &fields) {
    return R"({"messages":[{"role":"user","content":"hi"}])" + (fields.empty() ? "" : "," + fields) + "}";
}

std::vector<BadRequest> bad_requests() {
    const std::string chat = "/v1/chat/completions";
    std::string long_prompt = "[";
    for (int i = 0; i < 300; ++i) long_prompt += (i ? ",65" : "65");
    long_prompt += "]";
    std::string medium_prompt = "[";
    for (int i = 0; i < 200; ++i) medium_prompt += (i ? ",65" : "65");
    medium_prompt += "]";
    return {
        {"malformed JSON", "/v1/chat/completions", "{", 400, "invalid_json"},
        {"empty body", "/v1/chat/completions", "", 400, "invalid_json"},
        {"body is a list", "/v1/chat/completions", "[]", 400, "invalid_type"},
        {"body is null", "/v1/chat/completions", "null", 400, "invalid_type"},
        {"trailing garbage", "/v1/chat/completions", chat_with("") + "x", 400, "invalid_json"},
        {"no messages", "/v1/chat/completions", "{}", 400, "missing_field"},
        {"messages not a list", "/v1/chat/completions", R"({"messages":"hi"})", 400, "invalid_type"},
        {"messages empty", "/v1/chat/completions", R"({"messages":[]})", 400, "invalid_value"},
        {"message not an object", "/v1/chat/completions", R"({"messages":["hi"]})", 400, "invalid_type"},
        {"message without role", "/v1/chat/completions", R"({"messages":[{"content":"hi"}]})", 400, "missing_field"},
        {"message without content", "/v1/chat/completions", R"({"messages":[{"role":"user"}]})", 400, "missing_field"},
        {"unknown role", "/v1/chat/completions", R"({"messages":[{"role":"robot","content":"hi"}]})", 400, "invalid_value"},
        {"role not a string", "/v1/chat/completions", R"({"messages":[{"role":5,"content":"hi"}]})", 400, "invalid_type"},
        {"content not a string", "/v1/chat/completions", R"({"messages":[{"role":"user","content":5}]})", 400, "invalid_type"},
        {"image content part", "/v1/chat/completions",
         R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})", 400, "invalid_type"},
        {"unknown message field", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi","x":1}]})", 400,
         "unknown_field"},
        {"unknown field", "/v1/chat/completions", chat_with(R"("frobnicate":true)"), 400, "unknown_field"},
        {"negative max_tokens", "/v1/chat/completions", chat_with(R"("max_tokens":-1)"), 400, "invalid_value"},
        {"zero max_tokens", "/v1/chat/completions", chat_with(R"("max_tokens":0)"), 400, "invalid_value"},
        {"max_tokens a string", "/v1/chat/completions", chat_with(R"("max_tokens":"10")"), 400, "invalid_type"},
        {"max_tokens fractional", "/v1/chat/completions", chat_with(R"("max_tokens":1.5)"), 400, "invalid_type"},
        {"max_tokens above the limit", "/v1/chat/completions", chat_with(R"("max_tokens":100000)"), 400, "invalid_value"},
        {"negative max_completion_tokens", "/v1/chat/completions", chat_with(R"("max_completion_tokens":-5)"), 400,
         "invalid_value"},
        {"huge max_tokens", "/v1/chat/completions", chat_with(R"("max_tokens":18446744073709551615)"), 400,
         "invalid_value"},
        {"negative temperature", "/v1/chat/completions", chat_with(R"("temperature":-1)"), 400, "invalid_value"},
        {"temperature too high", "/v1/chat/completions", chat_with(R"("temperature":3)"), 400, "invalid_value"},
        {"temperature a string", "/v1/chat/completions", chat_with(R"("temperature":"hot")"), 400, "invalid_type"},
        {"top_p above 1", "/v1/chat/completions", chat_with(R"("top_p":1.5)"), 400, "invalid_value"},
        {"negative top_k", "/v1/chat/completions", chat_with(R"("top_k":-1)"), 400, "invalid_value"},
        {"min_p above 1", "/v1/chat/completions", chat_with(R"("min_p":2)"), 400, "invalid_value"},
        {"presence_penalty too high", "/v1/chat/completions", chat_with(R"("presence_penalty":5)"), 400, "invalid_value"},
        {"frequency_penalty a string", "/v1/chat/completions", chat_with(R"("frequency_penalty":"x")"), 400,
         "invalid_type"},
        {"seed a string", "/v1/chat/completions", chat_with(R"("seed":"x")"), 400, "invalid_type"},
        {"negative seed", "/v1/chat/completions", chat_with(R"("seed":-1)"), 400, "invalid_value"},
        {"stop a number", "/v1/chat/completions", chat_with(R"("stop":5)"), 400, "invalid_type"},
        {"stop a list of numbers", "/v1/chat/completions", chat_with(R"("stop":[1,2])"), 400, "invalid_type"},
        {"five stop strings", "/v1/chat/completions", chat_with(R"("stop":["a","b","c","d","e"])"), 400, "invalid_value"},
        {"n = 2", "/v1/chat/completions", chat_with(R"("n":2)"), 400, "invalid_value"},
        {"n = 0", "/v1/chat/completions", chat_with(R"("n":0)"), 400, "invalid_value"},
        {"stream a string", "/v1/chat/completions", chat_with(R"("stream":"yes")"), 400, "invalid_type"},
        {"unknown stream option", "/v1/chat/completions", chat_with(R"("stream":true,"stream_options":{"x":true})"), 400,
         "unknown_field"},
        {"logit_bias key not a number", "/v1/chat/completions", chat_with(R"("logit_bias":{"abc":1})"), 400,
         "invalid_value"},
        {"logit_bias token >= n_vocab", "/v1/chat/completions", chat_with(R"("logit_bias":{"999999":1})"), 400,
         "invalid_value"},
        {"logit_bias value too large", "/v1/chat/completions", chat_with(R"("logit_bias":{"1":500})"), 400,
         "invalid_value"},
        {"unknown model", "/v1/chat/completions", chat_with(R"("model":"gpt-4")"), 404, "model_not_found"},
        {"invalid UTF-8", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\xfe\"}]}", 400,
         "invalid_json"},
        {"overlong UTF-8", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc0\xaf\"}]}", 400,
         "invalid_json"},
        {"body above --max-body", "/v1/chat/completions", chat_with("\"user\":\"" + std::string(8000, 'x') + "\""), 413,
         "body_too_large"},
        {"no API key", "/v1/chat/completions", chat_with(""), 401, "invalid_api_key", ""},
        {"wrong API key", "/v1/chat/completions", chat_with(""), 401, "invalid_api_key", "Bearer wrong-key"},
        {"key as Basic auth", "/v1/chat/completions", chat_with(""), 401, "invalid_api_key", "Basic test-key-0123456789"},
        {"key prefix only", "/v1/chat/completions", chat_with(""), 401, "invalid_api_key", "Bearer test-key"},
        {"models without key", "/v1/models", "", 401, "invalid_api_key", ""},
        {"no prompt", "/v1/completions", "{}", 400, "missing_field"},
        {"prompt token >= n_vocab", "/v1/completions", R"({"prompt":[1,2,999999]})", 400, "invalid_value"},
        {"negative prompt token", "/v1/completions", R"({"prompt":[1,-1]})", 400, "invalid_value"},
        {"prompt list mixed", "/v1/completions", R"({"prompt":[1,"a"]})", 400, "invalid_type"},
        {"empty prompt", "/v1/completions", R"({"prompt":""})", 400, "invalid_value"},
        {"empty prompt list", "/v1/completions", R"({"prompt":[]})", 400, "invalid_value"},
        {"two prompts", "/v1/completions", R"({"prompt":["a","b"]})", 400, "invalid_value"},
        {"prompt a number", "/v1/completions", R"({"prompt":5})", 400, "invalid_type"},
        {"prompt longer than a slot", "/v1/completions", R"({"prompt":)" + long_prompt + "}", 400,
         "context_length_exceeded"},
        {"prompt + max_tokens above a slot", "/v1/completions", R"({"prompt":)" + medium_prompt + R"(,"max_tokens":64})",
         400, "context_length_exceeded"},
        {"messages on completions", "/v1/completions", R"({"prompt":"a","messages":[]})", 400, "unknown_field"},
        {"detokenize id >= n_vocab", "/detokenize", R"({"tokens":[1,999999]})", 400, "invalid_value"},
        {"detokenize tokens not a list", "/detokenize", R"({"tokens":"1 2"})", 400, "invalid_type"},
        {"tokenize without content", "/tokenize", R"({})", 400, "invalid_type"},
        {"tokenize unknown field", "/tokenize", R"({"content":"a","x":1})", 400, "unknown_field"},
        {"no such endpoint", "/v1/nothing", "{}", 404, "not_found"},
        {"embeddings without input", "/v1/embeddings", R"({})", 400, "missing_field"},
        {"embeddings input a number", "/v1/embeddings", R"({"input":5})", 400, "invalid_type"},
        {"embeddings empty input", "/v1/embeddings", R"({"input":""})", 400, "invalid_value"},
        {"embeddings base64", "/v1/embeddings", R"({"input":"a","encoding_format":"base64"})", 400, "invalid_value"},
        {"embeddings token >= n_vocab", "/v1/embeddings", R"({"input":[1,999999]})", 400, "invalid_value"},
        {"embeddings unknown model", "/v1/embeddings", R"({"input":"a","model":"ada"})", 404, "model_not_found"},
    };
}

std::string good_request() { return chat_with(R"("temperature":0,"max_tokens":12,"model":"tiny")"); }

TEST(ServeRequests, BadRequestsGetTheirStatusAndJsonErrorAndTheServerKeepsServing) {
    auto server = bitnet_test::start_server({"-c", "512", "--parallel", "2", "--api-key", kKey, "--alias", "tiny",
                                             "--max-body", "4096", "--max-tokens", "64"},
                                            "bad-requests");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    const httplib::Headers authorized = {{"Authorization", std::string("Bearer ") + kKey}};

    auto before = client->Post("/v1/chat/completions", authorized, good_request(), "application/json");
    ASSERT_TRUE(before) << httplib::to_string(before.error());
    ASSERT_EQ(before->status, 200) << before->body;
    const std::string expected_text = json::parse(before->body)["choices"][0]["message"]["content"];

    const std::vector<BadRequest> cases = bad_requests();
    ASSERT_GE(cases.size(), 40u);
    for (const BadRequest &bad : cases) {
        SCOPED_TRACE(bad.what);
        httplib::Headers headers = authorized;
        if (bad.authorization) {
            headers.clear();
            if (*bad.authorization) headers.emplace("Authorization", bad.authorization);
        }
        const bool get = std::string(bad.path) == "/v1/models";
        auto response = get ? client->Get(bad.path, headers)
                            : client->Post(bad.path, headers, bad.body, "application/json");
        ASSERT_TRUE(response) << httplib::to_string(response.error());
        EXPECT_EQ(response->status, bad.status) << response->body;
        json body;
        ASSERT_NO_THROW(body = json::parse(response->body)) << response->body;
        ASSERT_TRUE(body.contains("error") && body["error"].is_object()) << response->body;
        EXPECT_TRUE(body["error"]["message"].is_string() && !body["error"]["message"].get<std::string>().empty());
        EXPECT_TRUE(body["error"]["type"].is_string());
        if (bad.code) {
            EXPECT_EQ(body["error"]["code"], bad.code) << response->body;
        }
    }

    // /health needs no key; a good request still gives the same text as before the bad ones.
    auto health = client->Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto after = client->Post("/v1/chat/completions", authorized, good_request(), "application/json");
    ASSERT_TRUE(after);
    ASSERT_EQ(after->status, 200) << after->body;
    EXPECT_EQ(json::parse(after->body)["choices"][0]["message"]["content"], expected_text);
    EXPECT_EQ(server->stop(SIGTERM, 60), 0) << server->log();
}

TEST(ServeRequests, EmptyStopStringsAreDroppedAsLlamaServerDoes) {
    bitnet_serve::ParseLimits limits;
    limits.n_vocab = 1000;
    auto stop_of = [&](const std::string &stop) {
        const auto result = bitnet_serve::parse_chat_request(
            R"({"messages":[{"role":"user","content":"hi"}],"stop":)" + stop + "}", limits);
        EXPECT_TRUE(std::holds_alternative<bitnet_serve::GenerationRequest>(result)) << stop;
        return std::holds_alternative<bitnet_serve::GenerationRequest>(result)
                   ? std::get<bitnet_serve::GenerationRequest>(result).stop
                   : std::vector<std::string>{"<refused>"};
    };
    EXPECT_EQ(stop_of(R"("")"), std::vector<std::string>{});
    EXPECT_EQ(stop_of(R"(["","END",""])"), std::vector<std::string>{"END"});
}

TEST(ServeRequests, ParserRejectsEveryTruncationOfAValidBody) {
    bitnet_serve::ParseLimits limits;
    limits.n_vocab = 1000;
    const std::string body = R"({"model":"m","messages":[{"role":"system","content":"be brief"},)"
                             R"({"role":"user","content":[{"type":"text","text":"hé"}]}],"max_tokens":7,)"
                             R"("temperature":0.5,"top_k":3,"seed":42,"stop":["\n","END"],"logit_bias":{"5":-100},)"
                             R"("stream":true,"stream_options":{"include_usage":true}})";
    const bitnet_serve::ParseResult whole = bitnet_serve::parse_chat_request(body, limits);
    ASSERT_TRUE(std::holds_alternative<bitnet_serve::GenerationRequest>(whole))
        << std::get<bitnet_serve::ApiError>(whole).message;
    const auto &request = std::get<bitnet_serve::GenerationRequest>(whole);
    EXPECT_EQ(request.model, "m");
    ASSERT_EQ(request.messages.size(), 2u);
    EXPECT_EQ(request.messages[1].content, "hé");
    EXPECT_EQ(request.max_tokens, 7);
    EXPECT_EQ(request.sampling.top_k, 3);
    EXPECT_EQ(request.sampling.seed, 42u);
    EXPECT_EQ(request.stop, (std::vector<std::string>{"\n", "END"}));
    ASSERT_EQ(request.sampling.logit_bias.size(), 1u);
    EXPECT_TRUE(std::isinf(request.sampling.logit_bias[0].second));
    EXPECT_TRUE(request.stream && request.include_usage);
    for (size_t length = 0; length < body.size(); ++length) {
        const auto result = bitnet_serve::parse_chat_request(std::string_view(body).substr(0, length), limits);
        ASSERT_TRUE(std::holds_alternative<bitnet_serve::ApiError>(result)) << "prefix of " << length << " bytes parsed";
        EXPECT_EQ(std::get<bitnet_serve::ApiError>(result).status, 400);
    }
}

}  // namespace
