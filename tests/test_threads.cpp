// The threading contract of bitnet.h ("models shareable, contexts and samplers not"), exercised the
// way an embedding program does: several threads each with its own context and sampler on one
// shared model, models loaded and freed in a loop on several threads at once, and the vocabulary
// of one model used from many threads. Each thread's result must equal the same work done on one
// thread. CI also runs these under ThreadSanitizer (.ci/run, BITNET_SANITIZE=thread), which turns
// any data race in the library into a failure.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

constexpr int kThreads = 4;

// Runs `work(thread index)` on kThreads threads at once and waits for all.
template <class Work>
void on_threads(Work &&work) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back([&work, t] { work(t); });
    for (std::thread &thread : threads) thread.join();
}

bitnet_sampler *make_chain(uint32_t seed) {
    bitnet_sampler *chain = nullptr, *member = nullptr;
    if (bitnet_sampler_chain_new(nullptr, &chain) != BITNET_OK) return nullptr;
    bitnet_sampler_init_top_k(20, &member);
    bitnet_sampler_chain_add(chain, member);
    bitnet_sampler_init_temperature(0.9f, &member);
    bitnet_sampler_chain_add(chain, member);
    bitnet_sampler_init_dist(seed, &member);
    bitnet_sampler_chain_add(chain, member);
    return chain;
}

// Prompt, then `n` tokens sampled by a top-k/temperature/dist chain of `seed`, fed back one at a time.
std::vector<bitnet_token> generate(const bitnet_model *model, const std::vector<int> &prompt, int n, uint32_t seed,
                                   int32_t n_threads, bitnet_status *status) {
    std::vector<bitnet_token> out;
    bitnet_test::RunOptions options;
    options.n_threads = n_threads;
    bitnet_test::ContextPtr context = bitnet_test::make_context(model, options, static_cast<uint32_t>(prompt.size() + n));
    bitnet_sampler *chain = make_chain(seed);
    *status = context && chain ? BITNET_OK : BITNET_ERR_INTERNAL;
    if (*status == BITNET_OK) *status = bitnet_test::decode_tokens(context.get(), prompt, 0, 0, false);
    int32_t entry = static_cast<int32_t>(prompt.size()) - 1;
    for (int i = 0; i < n && *status == BITNET_OK; ++i) {
        const bitnet_token token = bitnet_sampler_sample(chain, context.get(), entry);
        if (token < 0) {
            *status = BITNET_ERR_INTERNAL;
            break;
        }
        bitnet_sampler_accept(chain, token);
        out.push_back(token);
        *status = bitnet_test::decode_tokens(context.get(), {token}, static_cast<int32_t>(prompt.size()) + i, 0);
        entry = 0;
    }
    bitnet_sampler_free(chain);
    return out;
}

TEST(Threads, ContextsOnOneSharedModelGenerateTheTokensOfASingleThread) {
    bitnet_test::ModelPtr model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    const std::vector<int> prompt = {1, 17, 42, 99, 7, 250};
    bitnet_status status;
    // Each thread uses its own seed; the expected tokens come from this thread, one at a time.
    std::vector<std::vector<bitnet_token>> expected;
    for (int t = 0; t < kThreads; ++t) {
        expected.push_back(generate(model.get(), prompt, 12, 100 + t, 2, &status));
        ASSERT_EQ(status, BITNET_OK) << bitnet_last_error();
    }
    std::vector<std::vector<bitnet_token>> results(kThreads);
    std::vector<bitnet_status> statuses(kThreads);
    on_threads([&](int t) { results[t] = generate(model.get(), prompt, 12, 100 + t, 2, &statuses[t]); });
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(statuses[t], BITNET_OK) << "thread " << t;
        EXPECT_EQ(results[t], expected[t]) << "thread " << t << " sampled other tokens than alone";
    }
}

TEST(Threads, ModelsLoadedAndFreedInALoopOnEveryThreadComputeTheSameLogits) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    const std::vector<uint8_t> file = bitnet_test::read_file(path);
    const std::vector<int> tokens = {1, 2, 3};
    bitnet_test::RunOptions options;
    options.n_threads = 1;
    std::vector<std::vector<float>> expected;
    {
        bitnet_test::ModelPtr model = bitnet_test::load_model(path);
        ASSERT_TRUE(model);
        expected = bitnet_test::engine_logits(model.get(), tokens, options);
    }
    constexpr int kRounds = 6;
    std::atomic<int> mismatches{0}, failures{0};
    on_threads([&](int t) {
        // From memory (each thread its own aligned copy) on odd rounds, mapped from the file on even ones.
        std::vector<uint64_t> image((file.size() + 7) / 8);
        std::memcpy(image.data(), file.data(), file.size());
        for (int round = 0; round < kRounds; ++round) {
            bitnet_model_params params = bitnet_model_default_params();
            bitnet_model *raw = nullptr;
            const bitnet_status status = round % 2 ? bitnet_model_load_memory(image.data(), file.size(), &params, &raw)
                                                   : bitnet_model_load_file(path.c_str(), &params, &raw);
            if (status != BITNET_OK) {
                ++failures;
                continue;
            }
            bitnet_test::ModelPtr model(raw);
            if (bitnet_test::engine_logits(model.get(), tokens, options) != expected) ++mismatches;
        }
    });
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(mismatches.load(), 0) << "a model loaded on another thread computed other logits";
}

TEST(Threads, OneModelsVocabularyFromManyThreadsAnswersAsOnOne) {
    bitnet_test::ModelPtr model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    // Tokenize, detokenize, stream, chat-render and read metadata; with a failing call in between
    // whose message must stay on its own thread.
    auto work = [&](int t, std::string *error) {
        const std::string text = "thread " + std::to_string(t) + ": Hello, world! \xC3\xA9\xE2\x82\xAC";
        std::string out;
        bitnet_token tokens[128];
        const int32_t n = bitnet_tokenize(model.get(), text.data(), static_cast<int32_t>(text.size()), tokens, 128,
                                          false, false);
        if (n < 0) return std::string("tokenize failed");
        char buf[512];
        const int32_t length = bitnet_detokenize(model.get(), tokens, n, buf, sizeof(buf), false, false);
        if (length < 0) return std::string("detokenize failed");
        out.append(buf, static_cast<size_t>(length)).append("|");
        bitnet_detokenizer *stream = nullptr;
        if (bitnet_detokenizer_new(model.get(), false, &stream) != BITNET_OK) return std::string("detokenizer failed");
        for (int32_t i = 0; i < n; ++i) {
            const int32_t piece = bitnet_detokenizer_push(stream, tokens[i], buf, sizeof(buf));
            if (piece > 0) out.append(buf, static_cast<size_t>(piece));
        }
        bitnet_detokenizer_free(stream);
        if (bitnet_token_to_piece(model.get(), 1 << 30, buf, sizeof(buf), false) != BITNET_COUNT_ERROR) {
            return std::string("an invalid token id was accepted");
        }
        *error = bitnet_last_error();
        const bitnet_chat_message messages[] = {{"user", text.c_str()}};
        const int32_t chat = bitnet_chat_apply_template(model.get(), "llama3", messages, 1, true, buf, sizeof(buf));
        if (chat < 0) return std::string("chat template failed");
        out.append("|").append(buf, static_cast<size_t>(chat));
        for (int64_t i = 0; i < bitnet_model_meta_count(model.get()); ++i) {
            const int64_t value = bitnet_model_meta_value_by_index(model.get(), i, 4, buf, sizeof(buf));
            out.append("|").append(bitnet_model_meta_key(model.get(), i)).append("=").append(buf);
            if (value < 0) return std::string("meta value failed");
        }
        return out;
    };
    std::vector<std::string> expected(kThreads), expected_errors(kThreads);
    for (int t = 0; t < kThreads; ++t) expected[t] = work(t, &expected_errors[t]);
    std::vector<std::string> results(kThreads), errors(kThreads);
    on_threads([&](int t) { results[t] = work(t, &errors[t]); });
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(results[t], expected[t]) << "thread " << t;
        EXPECT_EQ(errors[t], expected_errors[t]) << "thread " << t << ": last error of another thread";
        EXPECT_FALSE(errors[t].empty());
    }
}

}  // namespace
