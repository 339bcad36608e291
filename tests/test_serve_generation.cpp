// What `bitnet serve` generates, checked against `bitnet run` (the reference: one sequence, no
// server) at temperature 0: completions and chats, JSON and streamed; 8 clients at once each get
// what they get alone; a second chat turn reuses the cached prefix and still matches a fresh run;
// a client that drops mid-stream frees its slot; SIGTERM lets a running stream finish, exit 0.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "bitnet.h"
#include "support/serve_client.h"

namespace {

using bitnet_test::json;

// A streamed response, put back together.
struct StreamResult {
    std::string text;
    std::string finish_reason;
    json usage;
    bool done = false;  // ended with "data: [DONE]"
    int chunks = 0;
};

StreamResult parse_stream(const std::string &body, bool chat) {
    StreamResult result;
    size_t at = 0;
    while ((at = body.find("data: ", at)) != std::string::npos) {
        const size_t end = body.find("\n\n", at);
        EXPECT_NE(end, std::string::npos) << "an event without its blank line";
        if (end == std::string::npos) break;
        const std::string data = body.substr(at + 6, end - at - 6);
        at = end + 2;
        EXPECT_FALSE(result.done) << "an event after [DONE]";
        if (data == "[DONE]") {
            result.done = true;
            continue;
        }
        const json chunk = json::parse(data);
        EXPECT_FALSE(chunk.contains("error")) << data;
        if (chunk.contains("usage")) result.usage = chunk["usage"];
        if (chunk["choices"].empty()) continue;
        const json &choice = chunk["choices"][0];
        ++result.chunks;
        if (chat && choice["delta"].contains("content")) result.text += choice["delta"]["content"].get<std::string>();
        if (!chat) result.text += choice["text"].get<std::string>();
        if (!choice["finish_reason"].is_null()) result.finish_reason = choice["finish_reason"];
    }
    return result;
}

// The reply text of a JSON (not streamed) response.
std::string reply_text(const json &body, bool chat) {
    return chat ? body["choices"][0]["message"]["content"].get<std::string>() : body["choices"][0]["text"].get<std::string>();
}

json post_json(httplib::Client &client, const std::string &path, const json &request) {
    auto response = client.Post(path, request.dump(), "application/json");
    EXPECT_TRUE(response) << (response ? "" : httplib::to_string(response.error()));
    if (!response) return json();
    EXPECT_EQ(response->status, 200) << response->body;
    return json::parse(response->body);
}

StreamResult post_stream(httplib::Client &client, const std::string &path, json request) {
    request["stream"] = true;
    request["stream_options"] = {{"include_usage", true}};
    auto response = client.Post(path, request.dump(), "application/json");
    EXPECT_TRUE(response) << (response ? "" : httplib::to_string(response.error()));
    if (!response) return {};
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->get_header_value("Content-Type"), "text/event-stream");
    return parse_stream(response->body, path == "/v1/chat/completions");
}

// The model's own rendering of a chat, tokenized as a chat prompt: what `bitnet run --tokens` gets.
std::vector<int32_t> chat_tokens(const std::vector<std::pair<std::string, std::string>> &messages) {
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(bitnet_test::tiny_model().c_str(), &params, &model), BITNET_OK);
    std::vector<bitnet_chat_message> list;
    for (const auto &[role, content] : messages) list.push_back({role.c_str(), content.c_str()});
    std::string text(1 << 16, '\0');
    const int32_t n = bitnet_chat_apply_template(model, nullptr, list.data(), list.size(), true, text.data(),
                                                 static_cast<int32_t>(text.size()));
    EXPECT_GT(n, 0);
    text.resize(static_cast<size_t>(n));
    std::vector<int32_t> tokens(text.size() + 8);
    const int32_t count = bitnet_tokenize(model, text.data(), n, tokens.data(), static_cast<int32_t>(tokens.size()),
                                          false, true);
    EXPECT_GT(count, 0);
    tokens.resize(static_cast<size_t>(count));
    bitnet_model_free(model);
    return tokens;
}

// logit_bias banning every end-of-generation token, so a long generation cannot end early.
json ban_end_of_generation() {
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(bitnet_test::tiny_model().c_str(), &params, &model), BITNET_OK);
    json bias = json::object();
    for (int32_t id = 0; id < bitnet_model_n_vocab(model); ++id) {
        if (bitnet_token_is_eog(model, id)) bias[std::to_string(id)] = -100;
    }
    bitnet_model_free(model);
    return bias;
}

// A value of the server's /metrics, or -1.
double metric(httplib::Client &client, const std::string &name) {
    auto response = client.Get("/metrics");
    if (!response || response->status != 200) return -1;
    std::smatch match;
    const std::regex line("(^|\n)" + name + " ([0-9.e+-]+)");
    return std::regex_search(response->body, match, line) ? std::stod(match[2]) : -1;
}

bool wait_for_metric(httplib::Client &client, const std::string &name, double value, double timeout_s) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < give_up) {
        if (metric(client, name) == value) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

TEST(ServeGeneration, CompletionsAtTemperatureZeroEqualBitnetRun) {
    auto server = bitnet_test::start_server({"-c", "512", "--parallel", "2"}, "completions");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    const std::vector<std::string> prompts = {"hello world", "The quick brown fox"};
    for (size_t i = 0; i < prompts.size(); ++i) {
        SCOPED_TRACE(prompts[i]);
        const std::string expected = bitnet_test::bitnet_run_text(prompts[i], {}, 16, "completion" + std::to_string(i));
        ASSERT_FALSE(expected.empty()) << "the reference generated nothing: the comparison would prove nothing";
        const json request = {{"prompt", prompts[i]}, {"max_tokens", 16}, {"temperature", 0}};
        const json body = post_json(*client, "/v1/completions", request);
        EXPECT_EQ(reply_text(body, false), expected);
        EXPECT_EQ(body["object"], "text_completion");
        EXPECT_EQ(body["usage"]["prompt_tokens"], static_cast<int>(prompts[i].size()) + 1);  // bytes + BOS
        const StreamResult streamed = post_stream(*client, "/v1/completions", request);
        EXPECT_EQ(streamed.text, expected);
        EXPECT_TRUE(streamed.done);
        EXPECT_EQ(streamed.usage["completion_tokens"], body["usage"]["completion_tokens"]);
        EXPECT_EQ(streamed.finish_reason, body["choices"][0]["finish_reason"]);
    }
    // A token-list prompt is decoded as given.
    const std::vector<int32_t> ids = {1, 2, 3, 40, 50};
    const json body = post_json(*client, "/v1/completions", {{"prompt", ids}, {"max_tokens", 10}, {"temperature", 0}});
    EXPECT_EQ(reply_text(body, false), bitnet_test::bitnet_run_text("", ids, 10, "token-list"));
    EXPECT_EQ(server->stop(SIGTERM, 60), 0);
}

// Speculative decoding in the server: at temperature 0 the text is plain decoding's (bitnet run),
// and the response counts the drafts in llama-server's timings fields.
TEST(ServeGeneration, SpeculativeDecodingAtTemperatureZeroEqualsBitnetRun) {
    const std::vector<std::vector<std::string>> setups = {{"--lookup", "1", "--draft-max", "4"},
                                                          {"--draft-model", bitnet_test::tiny_model(), "--draft-max", "3"}};
    for (const auto &setup : setups) {
        SCOPED_TRACE(setup[0]);
        std::vector<std::string> arguments = {"-c", "512", "--parallel", "2"};
        arguments.insert(arguments.end(), setup.begin(), setup.end());
        auto server = bitnet_test::start_server(arguments, setup[0] == "--lookup" ? "speculative-lookup" : "speculative-draft");
        ASSERT_GT(server->port(), 0) << server->log();
        ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
        auto client = bitnet_test::client_for(server->port());
        const std::string prompt = "The quick brown fox";
        const std::string expected = bitnet_test::bitnet_run_text(prompt, {}, 32, "speculative-reference");
        ASSERT_FALSE(expected.empty());
        const json body = post_json(*client, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 32}, {"temperature", 0}});
        EXPECT_EQ(reply_text(body, false), expected);
        ASSERT_TRUE(body.contains("timings")) << body.dump();
        const int64_t drafted = body["timings"]["draft_n"], accepted = body["timings"]["draft_n_accepted"];
        EXPECT_GE(accepted, 0);
        EXPECT_LE(accepted, drafted);
        // The model drafting for itself: its drafts are accepted (all but where logits of a batch
        // of one and of several differ in the last bits at a near tie).
        if (setup[0] == "--draft-model") {
            EXPECT_GT(drafted, 0);
            EXPECT_GT(accepted, drafted * 3 / 4);
        }
        EXPECT_EQ(server->stop(SIGTERM, 60), 0);
    }
}

TEST(ServeGeneration, ChatAtTemperatureZeroEqualsBitnetRunOfTheTemplatedPrompt) {
    auto server = bitnet_test::start_server({"-c", "512", "--parallel", "2"}, "chat");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    const std::vector<std::pair<std::string, std::string>> messages = {{"system", "Be brief."},
                                                                       {"user", "What is BitNet?"}};
    const std::vector<int32_t> tokens = chat_tokens(messages);
    const std::string expected = bitnet_test::bitnet_run_text("", tokens, 20, "chat");
    ASSERT_FALSE(expected.empty());
    json request = {{"messages", json::array()}, {"max_tokens", 20}, {"temperature", 0}};
    for (const auto &[role, content] : messages) request["messages"].push_back({{"role", role}, {"content", content}});
    const json body = post_json(*client, "/v1/chat/completions", request);
    EXPECT_EQ(reply_text(body, true), expected);
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(body["usage"]["prompt_tokens"], static_cast<int>(tokens.size()));
    const StreamResult streamed = post_stream(*client, "/v1/chat/completions", request);
    EXPECT_EQ(streamed.text, expected);
    EXPECT_TRUE(streamed.done);
    EXPECT_EQ(streamed.usage["completion_tokens"], body["usage"]["completion_tokens"]);
    EXPECT_EQ(server->stop(SIGTERM, 60), 0);
}

TEST(ServeGeneration, EightConcurrentClientsEachGetWhatTheyGetAlone) {
    auto server = bitnet_test::start_server({"-c", "2048", "--parallel", "8"}, "concurrent");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    std::vector<std::string> prompts, expected;
    for (int i = 0; i < 8; ++i) {
        prompts.push_back("client " + std::to_string(i) + std::string(static_cast<size_t>(i * 3), '!') + " says");
        expected.push_back(bitnet_test::bitnet_run_text(prompts.back(), {}, 24, "alone" + std::to_string(i)));
        ASSERT_FALSE(expected.back().empty());
    }
    std::vector<std::string> actual(8);
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back([&, i] {
            auto client = bitnet_test::client_for(server->port());
            const json request = {{"prompt", prompts[static_cast<size_t>(i)]}, {"max_tokens", 24}, {"temperature", 0}};
            // Half stream, half do not: both kinds share the batches.
            actual[static_cast<size_t>(i)] = i % 2 ? post_stream(*client, "/v1/completions", request).text
                                                   : reply_text(post_json(*client, "/v1/completions", request), false);
        });
    }
    for (auto &thread : clients) thread.join();
    for (int i = 0; i < 8; ++i) EXPECT_EQ(actual[static_cast<size_t>(i)], expected[static_cast<size_t>(i)]) << "client " << i;
    EXPECT_EQ(server->stop(SIGTERM, 60), 0);
}

TEST(ServeGeneration, SecondChatTurnProcessesOnlyItsNewTokensAndMatchesAFreshRun) {
    auto server = bitnet_test::start_server({"-c", "512", "--parallel", "1"}, "prefix");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    json request = {{"messages", {{{"role", "user"}, {"content", "first question"}}}}, {"max_tokens", 8}, {"temperature", 0}};
    const json first = post_json(*client, "/v1/chat/completions", request);
    const std::string reply = reply_text(first, true);
    const int first_prompt = first["usage"]["prompt_tokens"];
    request["messages"].push_back({{"role", "assistant"}, {"content", reply}});
    request["messages"].push_back({{"role", "user"}, {"content", "second question"}});
    const json second = post_json(*client, "/v1/chat/completions", request);
    const int cached = second["usage"]["prompt_tokens_details"]["cached_tokens"];
    // The whole first prompt is reused; only the reply as rendered and the new turn are processed.
    EXPECT_GE(cached, first_prompt);
    const std::vector<int32_t> tokens = chat_tokens(
        {{"user", "first question"}, {"assistant", reply}, {"user", "second question"}});
    EXPECT_EQ(second["usage"]["prompt_tokens"], static_cast<int>(tokens.size()));
    EXPECT_EQ(reply_text(second, true), bitnet_test::bitnet_run_text("", tokens, 8, "second-turn"));
    EXPECT_EQ(server->stop(SIGTERM, 60), 0);
}

// Sends a streaming request on a raw socket, reads until the first event, and hangs up.
bool start_stream_and_hang_up(int port, const std::string &body) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) return close(fd), false;
    const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return close(fd), false;
    std::string received;
    char buffer[4096];
    while (received.find("data: ") == std::string::npos) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return close(fd), false;
        received.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    return true;
}

TEST(ServeGeneration, ClientThatHangsUpMidStreamFreesItsSlot) {
    auto server = bitnet_test::start_server({"-c", "4096", "--parallel", "1"}, "disconnect");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    const json request = {{"prompt", "hello"}, {"max_tokens", 4000}, {"temperature", 0}, {"stream", true},
                          {"logit_bias", ban_end_of_generation()}};
    ASSERT_TRUE(start_stream_and_hang_up(server->port(), request.dump()));
    // The slot is freed long before 4000 tokens: the cancelled request is counted with what it made.
    ASSERT_TRUE(wait_for_metric(*client, "bitnet_requests_cancelled_total", 1, 120)) << server->log();
    EXPECT_EQ(metric(*client, "bitnet_slots_busy"), 0);
    EXPECT_LT(metric(*client, "bitnet_generated_tokens_total"), 4000);
    // The next request gets the slot and its normal answer.
    const json next = {{"prompt", "hello world"}, {"max_tokens", 8}, {"temperature", 0}};
    EXPECT_EQ(reply_text(post_json(*client, "/v1/completions", next), false),
              bitnet_test::bitnet_run_text("hello world", {}, 8, "after-disconnect"));
    EXPECT_EQ(server->stop(SIGTERM, 60), 0);
}

// The reference embedding: the whole text decoded in one batch on a fresh context of this process,
// every token's final hidden state averaged in double and scaled to unit length.
std::vector<double> reference_embedding(const std::string &text) {
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(bitnet_test::tiny_model().c_str(), nullptr, &model), BITNET_OK);
    std::vector<int32_t> tokens(text.size() + 8);
    const int32_t n = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                      static_cast<int32_t>(tokens.size()), true, false);
    EXPECT_GT(n, 0);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_threads = 1;
    params.embeddings = true;
    params.n_outputs_max = static_cast<uint32_t>(n);
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(model, &params, &context), BITNET_OK);
    bitnet_batch *batch = nullptr;
    bitnet_batch_new(n, &batch);
    const int32_t seq = 0;
    for (int32_t i = 0; i < n; ++i) bitnet_batch_add(batch, tokens[static_cast<size_t>(i)], i, &seq, 1, true);
    EXPECT_EQ(bitnet_decode(context, batch), BITNET_OK);
    std::vector<double> mean(static_cast<size_t>(bitnet_model_n_embd(model)), 0.0);
    for (int32_t i = 0; i < n; ++i) {
        const float *hidden = bitnet_get_embeddings(context, i);
        for (size_t k = 0; k < mean.size(); ++k) mean[k] += hidden[k] / n;
    }
    double norm = 0;
    for (double v : mean) norm += v * v;
    for (double &v : mean) v /= std::sqrt(norm);
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return mean;
}

TEST(ServeGeneration, EmbeddingsAreTheNormalizedMeanOfTheFinalHiddenStates) {
    auto server = bitnet_test::start_server({"-c", "512", "--parallel", "2"}, "embeddings");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    // The second input is longer than the server's 64-token chunks, so pooling spans decodes.
    const std::vector<std::string> inputs = {"hello world", std::string(150, 'a') + " and more text"};
    const json body = post_json(*client, "/v1/embeddings", {{"input", inputs}});
    ASSERT_EQ(body["data"].size(), inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        SCOPED_TRACE(i);
        const std::vector<float> actual = body["data"][i]["embedding"].get<std::vector<float>>();
        const std::vector<double> expected = reference_embedding(inputs[i]);
        ASSERT_EQ(actual.size(), expected.size());
        double worst = 0;
        for (size_t k = 0; k < actual.size(); ++k) worst = std::max(worst, std::abs(actual[k] - expected[k]));
        EXPECT_LT(worst, 1e-4);
        EXPECT_EQ(body["data"][i]["index"], i);
    }
    EXPECT_EQ(body["usage"]["prompt_tokens"], static_cast<int>(inputs[0].size() + inputs[1].size() + 2));
    EXPECT_EQ(server->stop(SIGTERM, 60), 0);
}

TEST(ServeGeneration, SigtermLetsARunningStreamFinishThenExitsZero) {
    auto server = bitnet_test::start_server({"-c", "2048", "--parallel", "1"}, "sigterm");
    ASSERT_GT(server->port(), 0) << server->log();
    ASSERT_TRUE(bitnet_test::wait_until_ready(server->port())) << server->log();
    auto client = bitnet_test::client_for(server->port());
    const int max_tokens = 1500;
    const json request = {{"prompt", "hello"}, {"max_tokens", max_tokens}, {"temperature", 0},
                          {"logit_bias", ban_end_of_generation()}};
    StreamResult streamed;
    std::thread streaming([&] {
        auto stream_client = bitnet_test::client_for(server->port());
        streamed = post_stream(*stream_client, "/v1/completions", request);
    });
    const bool busy = wait_for_metric(*client, "bitnet_slots_busy", 1, 120);
    const int status = busy ? server->stop(SIGTERM, 300) : -2;
    streaming.join();
    ASSERT_TRUE(busy) << server->log();
    EXPECT_EQ(status, 0) << server->log();
    EXPECT_TRUE(streamed.done);
    EXPECT_EQ(streamed.finish_reason, "length");
    EXPECT_EQ(streamed.usage["completion_tokens"], max_tokens);
    EXPECT_NE(server->log().find("SIGTERM"), std::string::npos);
}

}  // namespace
