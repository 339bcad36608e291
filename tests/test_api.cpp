// The C API's contract: statuses, messages, NULL handling, parameters, loading from memory and
// cancellation, and decode failures that leave the context usable and unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bitnet.h"
#include "model/model.h"
#include "support/engine_runner.h"
#include "support/model_builder.h"
#include "support/process.h"
#include "support/test_support.h"

namespace {

TEST(Api, VersionAndBuildInfo) {
    std::string version = bitnet_version();
    EXPECT_EQ(version, std::to_string(BITNET_VERSION_MAJOR) + "." + std::to_string(BITNET_VERSION_MINOR) + "." +
                           std::to_string(BITNET_VERSION_PATCH));
    std::string info = bitnet_build_info();
    EXPECT_NE(info.find("cpu"), std::string::npos) << info;
}

TEST(Api, EveryStatusHasADistinctName) {
    const bitnet_status all[] = {BITNET_OK, BITNET_ERR_INVALID_ARGUMENT, BITNET_ERR_IO, BITNET_ERR_INVALID_MODEL,
                                 BITNET_ERR_UNSUPPORTED, BITNET_ERR_OUT_OF_MEMORY, BITNET_ERR_CANCELLED,
                                 BITNET_ERR_CONTEXT_FULL, BITNET_ERR_INVALID_INPUT, BITNET_ERR_ABORTED,
                                 BITNET_ERR_BACKEND, BITNET_ERR_BUFFER_TOO_SMALL, BITNET_ERR_INVALID_STATE,
                                 BITNET_ERR_INTERNAL};
    std::vector<std::string> names;
    for (bitnet_status s : all) {
        std::string name = bitnet_status_string(s);
        EXPECT_NE(name, "unknown status");
        for (const auto &other : names) EXPECT_NE(name, other);
        names.push_back(name);
    }
    EXPECT_STREQ(bitnet_status_string(static_cast<bitnet_status>(12345)), "unknown status");
    // Pinned values: the ABI promises them.
    EXPECT_EQ(BITNET_ERR_INVALID_MODEL, 3);
    EXPECT_EQ(BITNET_ERR_CONTEXT_FULL, 7);
    EXPECT_EQ(BITNET_ERR_INTERNAL, 99);
}

TEST(Api, NullHandlesAreHandled) {
    bitnet_model_free(nullptr);
    bitnet_context_free(nullptr);
    bitnet_batch_free(nullptr);
    bitnet_batch_clear(nullptr);
    EXPECT_STREQ(bitnet_model_architecture(nullptr), "");
    EXPECT_EQ(bitnet_model_n_layer(nullptr), 0);
    EXPECT_EQ(bitnet_model_meta_count(nullptr), 0);
    EXPECT_EQ(bitnet_model_meta_key(nullptr, 0), nullptr);
    char buf[8];
    EXPECT_EQ(bitnet_model_meta_value(nullptr, "x", buf, sizeof buf), -1);
    EXPECT_NE(std::string(bitnet_last_error()).find("model is NULL"), std::string::npos);

    bitnet_model *model = reinterpret_cast<bitnet_model *>(0x1);
    EXPECT_EQ(bitnet_model_load_file(nullptr, nullptr, &model), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(model, nullptr);
    EXPECT_EQ(bitnet_model_load_file("x.gguf", nullptr, nullptr), BITNET_ERR_INVALID_ARGUMENT);
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(nullptr, nullptr, &context), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_decode(nullptr, nullptr), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_get_logits(nullptr, 0), nullptr);
    EXPECT_EQ(bitnet_batch_add(nullptr, 0, 0, nullptr, 1, true), BITNET_ERR_INVALID_ARGUMENT);
}

TEST(Api, MissingFileIsAnIoErrorNamingThePath) {
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file("/nonexistent/model.gguf", nullptr, &model), BITNET_ERR_IO);
    EXPECT_EQ(model, nullptr);
    EXPECT_NE(std::string(bitnet_last_error()).find("/nonexistent/model.gguf"), std::string::npos);
    EXPECT_EQ(bitnet_last_status(), BITNET_ERR_IO);
}

TEST(Api, LastErrorIsPerThread) {
    bitnet_model *model = nullptr;
    bitnet_model_load_file("/nonexistent/a.gguf", nullptr, &model);
    std::string other;
    std::thread([&] { other = bitnet_last_error(); }).join();
    EXPECT_EQ(other, "");
    EXPECT_NE(std::string(bitnet_last_error()), "");
}

TEST(Api, ParamsWithTooSmallStructSizeAreRejected) {
    bitnet_model_params params = bitnet_model_default_params();
    params.struct_size = 4;
    bitnet_model *model = nullptr;
    std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find("struct_size"), std::string::npos);
}

TEST(Api, ModelQueriesDescribeTheFile) {
    std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    auto model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    EXPECT_STREQ(bitnet_model_architecture(model.get()), "bitnet-b1.58");
    EXPECT_EQ(bitnet_model_n_layer(model.get()), 2);
    EXPECT_EQ(bitnet_model_n_embd(model.get()), 256);
    EXPECT_EQ(bitnet_model_n_head(model.get()), 4);
    EXPECT_EQ(bitnet_model_n_head_kv(model.get()), 2);
    EXPECT_EQ(bitnet_model_n_ff(model.get()), 512);
    EXPECT_EQ(bitnet_model_n_vocab(model.get()), 259);
    EXPECT_EQ(bitnet_model_n_tensors(model.get()), 2 + 11 * 2);
    EXPECT_EQ(bitnet_model_file_size(model.get()), bitnet_test::read_file(path).size());
    EXPECT_FLOAT_EQ(bitnet_model_rope_freq_base(model.get()), 10000.0f);
    EXPECT_STREQ(bitnet_model_name(model.get()), "bitnet-synthetic");  // tools/synth's default general.name
    EXPECT_EQ(bitnet_model_n_ctx_train(model.get()), 256);             // the tiny preset's context_length
    // The tiny preset by hand: n_embd 256, 2 layers, 4/2 heads (n_embd_kv 128), n_ff 512,
    // vocabulary 259, tied lm_head: embedding + output norm + per layer 4 norms and 7 projections.
    const uint64_t e = 256, kv = 128, f = 512, v = 259;
    const uint64_t per_layer = (e + e + e + f) + (e * e + e * kv + e * kv + e * e) + (e * f + e * f + f * e);
    EXPECT_EQ(bitnet_model_n_params(model.get()), v * e + e + 2 * per_layer);
    char buf[64];
    int64_t n = bitnet_model_meta_value(model.get(), "bitnet-b1.58.block_count", buf, sizeof buf);
    EXPECT_EQ(n, 1);
    EXPECT_STREQ(buf, "2");
    // Truncation still reports the full length and NUL-terminates.
    n = bitnet_model_meta_value(model.get(), "general.architecture", buf, 4);
    EXPECT_EQ(n, 12);
    EXPECT_STREQ(buf, "bit");
    EXPECT_EQ(bitnet_model_meta_value(model.get(), "no.such.key", buf, sizeof buf), -1);
    EXPECT_EQ(bitnet_model_meta_count(model.get()), 24);
    EXPECT_STREQ(bitnet_model_meta_key(model.get(), 0), "general.architecture");
}

TEST(Api, LoadFromCallerMemoryWithoutCopying) {
    std::vector<uint8_t> bytes = bitnet_test::read_file(bitnet_test::synthetic_model("tiny", "tq2_0"));
    const uint8_t *begin = bytes.data(), *end = bytes.data() + bytes.size();
    bitnet_model *raw = nullptr;
    ASSERT_EQ(bitnet_model_load_memory(bytes.data(), bytes.size(), nullptr, &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ModelPtr model(raw);
    EXPECT_EQ(bitnet_model_file_size(model.get()), bytes.size());

    // Every weight the engine computes with lies in the caller's buffer, and nothing was repacked.
    auto inside = [&](const bitnet::Weight &w) { return w.data >= begin && w.data + w.row_bytes() * w.rows <= end; };
    const bitnet::ModelWeights &weights = model->weights;
    EXPECT_TRUE(inside(weights.token_embd));
    EXPECT_TRUE(inside(weights.output_norm));
    EXPECT_TRUE(inside(weights.output));
    for (const bitnet::LayerWeights &layer : weights.layers) {
        for (const bitnet::Weight *w : {&layer.attn_norm, &layer.attn_sub_norm, &layer.ffn_norm, &layer.ffn_sub_norm,
                                        &layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.ffn_gate, &layer.ffn_up,
                                        &layer.ffn_down}) {
            EXPECT_TRUE(inside(*w)) << (w->info ? w->info->name : "?");
        }
    }
    EXPECT_EQ(model->owned_bytes, 0u);

    // And the engine reads them there: doubling the output norm's weights in the caller's buffer
    // doubles the next decode's logits (the lm_head is linear in the normed state).
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    bitnet_test::RunOptions options;
    options.quantize_activations = false;
    auto before = bitnet_test::engine_logits(model.get(), {1, 2}, options);
    uint8_t *norm = bytes.data() + (weights.output_norm.data - begin);
    for (int i = 0; i < bitnet_model_n_embd(model.get()); ++i) {
        float value;
        std::memcpy(&value, norm + 4 * i, 4);
        value *= 2.0f;
        std::memcpy(norm + 4 * i, &value, 4);
    }
    auto after = bitnet_test::engine_logits(model.get(), {1, 2}, options);
    ASSERT_EQ(after.size(), 2u);
    for (int32_t t = 0; t < n_vocab; ++t) {
        ASSERT_NEAR(after[1][t], 2.0f * before[1][t], 1e-4f * (1.0f + std::fabs(before[1][t]))) << "token " << t;
    }
}

// bitnet.h promises that an 8-byte aligned image loads; a 4-byte aligned one is refused by name.
TEST(Api, LoadFromMemoryNeedsEightByteAlignment) {
    const std::vector<uint8_t> bytes = bitnet_test::read_file(bitnet_test::synthetic_model("tiny", "tq2_0"));
    std::vector<uint8_t> storage(bytes.size() + 64);
    uint8_t *base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
    uint8_t *eight = base + 8;  // 8-aligned, not 16-aligned
    std::memcpy(eight, bytes.data(), bytes.size());
    bitnet_model *raw = nullptr;
    ASSERT_EQ(bitnet_model_load_memory(eight, bytes.size(), nullptr, &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ModelPtr model(raw);
    auto logits = bitnet_test::engine_logits(model.get(), {1, 2, 3}, bitnet_test::RunOptions{});
    ASSERT_EQ(logits.size(), 3u);
    auto expected = bitnet_test::engine_logits(bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "tq2_0")).get(),
                                               {1, 2, 3}, bitnet_test::RunOptions{});
    EXPECT_EQ(logits, expected);
    model.reset();

    uint8_t *four = base + 4;
    std::memmove(four, eight, bytes.size());
    EXPECT_EQ(bitnet_model_load_memory(four, bytes.size(), nullptr, &raw), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(raw, nullptr);
    EXPECT_STREQ(bitnet_last_error(), "bitnet_model_load_memory: data must be aligned to 8 bytes");
    EXPECT_EQ(bitnet_model_load_memory(base + 1, bytes.size() - 1, nullptr, &raw), BITNET_ERR_INVALID_ARGUMENT);
}

// Every message the API layer writes starts with the public function's name (never the name of a
// lambda, such as "operator()").
TEST(Api, ErrorMessagesNameThePublicFunction) {
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    bitnet_context *raw_context = nullptr;
    ASSERT_EQ(bitnet_context_new(model.get(), nullptr, &raw_context), BITNET_OK) << bitnet_last_error();
    bitnet_test::ContextPtr context(raw_context);
    bitnet_model *model_out = nullptr;
    bitnet_context *context_out = nullptr;
    bitnet_batch *batch_out = nullptr;
    bitnet_sampler *sampler_out = nullptr;
    bitnet_detokenizer *detokenizer_out = nullptr;
    char buf[8];
    bitnet_token token = 0;
    int32_t seq = 0;
    bitnet_chat_message message = {nullptr, "hi"};
    struct Case {
        const char *function;
        std::function<void()> call;
    };
    const Case cases[] = {
        {"bitnet_model_load_file", [&] { bitnet_model_load_file(nullptr, nullptr, &model_out); }},
        {"bitnet_model_load_file", [&] { bitnet_model_load_file("x", nullptr, nullptr); }},
        {"bitnet_model_load_memory", [&] { bitnet_model_load_memory(nullptr, 8, nullptr, &model_out); }},
        {"bitnet_model_load_memory", [&] { bitnet_model_load_memory(buf, 0, nullptr, &model_out); }},
        {"bitnet_model_meta_value", [&] { bitnet_model_meta_value(nullptr, "k", buf, sizeof buf); }},
        {"bitnet_model_meta_value", [&] { bitnet_model_meta_value(model.get(), "no.such.key", buf, sizeof buf); }},
        {"bitnet_context_memory_required", [&] { bitnet_context_memory_required(nullptr, nullptr); }},
        {"bitnet_context_new", [&] { bitnet_context_new(model.get(), nullptr, nullptr); }},
        {"bitnet_context_new", [&] { bitnet_context_new(nullptr, nullptr, &context_out); }},
        {"bitnet_batch_new", [&] { bitnet_batch_new(0, &batch_out); }},
        {"bitnet_batch_add", [&] { bitnet_batch_add(nullptr, 0, 0, &seq, 1, true); }},
        {"bitnet_decode", [&] { bitnet_decode(context.get(), nullptr); }},
        {"bitnet_get_logits", [&] { bitnet_get_logits(context.get(), -1); }},
        {"bitnet_get_embeddings", [&] { bitnet_get_embeddings(nullptr, 0); }},
        {"bitnet_memory_clear", [&] { bitnet_memory_clear(nullptr); }},
        {"bitnet_seq_rm", [&] { bitnet_seq_rm(nullptr, 0, 0, -1); }},
        {"bitnet_seq_pos_min", [&] { bitnet_seq_pos_min(nullptr, 0); }},
        {"bitnet_seq_pos_max", [&] { bitnet_seq_pos_max(nullptr, 0); }},
        {"bitnet_state_size", [&] { bitnet_state_size(nullptr); }},
        {"bitnet_chat_apply_template", [&] { bitnet_chat_apply_template(nullptr, "llama3", &message, 1, true, buf, 8); }},
        {"bitnet_chat_apply_template", [&] { bitnet_chat_apply_template(nullptr, nullptr, nullptr, 0, true, buf, -1); }},
        {"bitnet_tokenize", [&] { bitnet_tokenize(nullptr, "a", 1, &token, 1, false, false); }},
        {"bitnet_tokenize", [&] { bitnet_tokenize(model.get(), "a", -1, &token, 1, false, false); }},
        {"bitnet_token_to_piece", [&] { bitnet_token_to_piece(model.get(), -5, buf, sizeof buf, false); }},
        {"bitnet_detokenize", [&] { bitnet_detokenize(model.get(), nullptr, 1, buf, sizeof buf, false, false); }},
        {"bitnet_detokenizer_new", [&] { bitnet_detokenizer_new(model.get(), false, nullptr); }},
        {"bitnet_detokenizer_new", [&] { bitnet_detokenizer_new(nullptr, false, &detokenizer_out); }},
        {"bitnet_detokenizer_push", [&] { bitnet_detokenizer_push(nullptr, 0, buf, sizeof buf); }},
        {"bitnet_detokenizer_flush", [&] { bitnet_detokenizer_flush(nullptr, buf, sizeof buf); }},
        {"bitnet_sampler_chain_new", [&] { bitnet_sampler_chain_new(nullptr, nullptr); }},
        {"bitnet_sampler_chain_add", [&] { bitnet_sampler_chain_add(nullptr, nullptr); }},
        {"bitnet_sampler_init_greedy", [&] { bitnet_sampler_init_greedy(nullptr); }},
        {"bitnet_sampler_init_top_p", [&] { bitnet_sampler_init_top_p(NAN, 1, &sampler_out); }},
        {"bitnet_sampler_sample", [&] { bitnet_sampler_sample(nullptr, context.get(), 0); }},
        {"bitnet_sampler_sample_logits", [&] { bitnet_sampler_sample_logits(nullptr, nullptr, 1); }},
        {"bitnet_sampler_apply", [&] { bitnet_sampler_apply(nullptr, nullptr); }},
        {"bitnet_sampler_accept", [&] { bitnet_sampler_accept(nullptr, 0); }},
    };
    for (const Case &c : cases) {
        bitnet_model_load_file("/nonexistent/reset.gguf", nullptr, &model_out);  // a different message first
        c.call();
        const std::string error = bitnet_last_error();
        EXPECT_EQ(error.rfind(std::string(c.function) + ": ", 0), 0u) << c.function << " wrote: " << error;
        EXPECT_EQ(error.find("operator"), std::string::npos) << error;
        EXPECT_NE(bitnet_last_status(), BITNET_OK) << c.function;
    }
    EXPECT_EQ(model_out, nullptr);
    EXPECT_EQ(context_out, nullptr);
    EXPECT_EQ(batch_out, nullptr);
    EXPECT_EQ(sampler_out, nullptr);
    EXPECT_EQ(detokenizer_out, nullptr);
}

TEST(Api, ProgressCallbackCanCancel) {
    std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    bitnet_model_params params = bitnet_model_default_params();
    int calls = 0;
    params.progress_user_data = &calls;
    params.progress_callback = [](float progress, void *user) {
        int *count = static_cast<int *>(user);
        ++*count;
        return progress < 0.5f;
    };
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_ERR_CANCELLED);
    EXPECT_EQ(model, nullptr);
    EXPECT_GE(calls, 2);
}

// Polls of the abort callback during one decode: before each layer, and once before the output.
struct AbortPlan {
    int polls = 0;
    int abort_at = 0;  // abort on this poll; 0 = never
};

bool abort_per_plan(void *user) {
    AbortPlan *plan = static_cast<AbortPlan *>(user);
    ++plan->polls;
    return plan->abort_at > 0 && plan->polls >= plan->abort_at;
}

class DecodeFailures : public ::testing::Test {
protected:
    void SetUp() override {
        model_ = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
        ASSERT_TRUE(model_);
        context_ = fresh_context();
        ASSERT_TRUE(context_);
    }
    // A context with the fixture's parameters, and an abort callback following `plan` if given.
    bitnet_test::ContextPtr fresh_context(AbortPlan *plan = nullptr) {
        bitnet_context_params params = bitnet_context_default_params();
        params.n_ctx = 8;
        params.n_batch = 8;
        params.n_seq_max = 2;
        params.n_outputs_max = 8;
        params.kv_type = BITNET_KV_F32;
        if (plan) {
            params.abort_callback = abort_per_plan;
            params.abort_user_data = plan;
        }
        bitnet_context *context = nullptr;
        EXPECT_EQ(bitnet_context_new(model_.get(), &params, &context), BITNET_OK) << bitnet_last_error();
        return bitnet_test::ContextPtr(context);
    }

    bitnet_test::ModelPtr model_;
    bitnet_test::ContextPtr context_;
};

TEST_F(DecodeFailures, InvalidTokenPositionAndSequenceAreRejected) {
    ASSERT_EQ(bitnet_test::decode_tokens(context_.get(), {1, 2, 3}, 0, 0), BITNET_OK);
    std::vector<float> before = bitnet_test::logits_copy(context_.get(), 2, bitnet_model_n_vocab(model_.get()));

    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {bitnet_model_n_vocab(model_.get())}, 3, 0),
              BITNET_ERR_INVALID_INPUT);
    EXPECT_NE(std::string(bitnet_last_error()).find("token id"), std::string::npos) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {-1}, 3, 0), BITNET_ERR_INVALID_INPUT);
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {4}, 5, 0), BITNET_ERR_INVALID_INPUT);  // skips position 3
    EXPECT_NE(std::string(bitnet_last_error()).find("continues at 3"), std::string::npos) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {4}, 0, 2), BITNET_ERR_INVALID_INPUT);  // seq >= n_seq_max
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), std::vector<int>(9, 1), 3, 0), BITNET_ERR_INVALID_INPUT);

    // The failures changed nothing: the previous logits are still there, and decoding continues.
    std::vector<float> after = bitnet_test::logits_copy(context_.get(), 2, bitnet_model_n_vocab(model_.get()));
    EXPECT_EQ(before, after);
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {4}, 3, 0), BITNET_OK) << bitnet_last_error();
}

TEST_F(DecodeFailures, ContextFullThenTheNextValidCallWorks) {
    const int32_t n_vocab = bitnet_model_n_vocab(model_.get());
    ASSERT_EQ(bitnet_test::decode_tokens(context_.get(), {1, 2, 3, 4, 5, 6}, 0, 0), BITNET_OK);
    std::vector<std::vector<float>> before;
    for (int32_t i = 0; i < 6; ++i) before.push_back(bitnet_test::logits_copy(context_.get(), i, n_vocab));

    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {7, 8, 9}, 6, 0), BITNET_ERR_CONTEXT_FULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("free cells"), std::string::npos);

    // Unchanged: the same outputs of the last good call, the same cache.
    for (int32_t i = 0; i < 6; ++i) EXPECT_EQ(bitnet_test::logits_copy(context_.get(), i, n_vocab), before[i]);
    EXPECT_EQ(bitnet_get_logits(context_.get(), -1), bitnet_get_logits(context_.get(), 5));
    EXPECT_EQ(bitnet_get_logits(context_.get(), 6), nullptr);
    EXPECT_EQ(bitnet_seq_pos_min(context_.get(), 0), 0);
    EXPECT_EQ(bitnet_seq_pos_max(context_.get(), 0), 5);
    EXPECT_EQ(bitnet_seq_pos_max(context_.get(), 1), -1);

    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {7, 8}, 6, 0), BITNET_OK) << bitnet_last_error();
    // ... so the next call computes what a context that never failed computes.
    bitnet_test::ContextPtr fresh = fresh_context();
    ASSERT_TRUE(fresh);
    ASSERT_EQ(bitnet_test::decode_tokens(fresh.get(), {1, 2, 3, 4, 5, 6}, 0, 0), BITNET_OK);
    ASSERT_EQ(bitnet_test::decode_tokens(fresh.get(), {7, 8}, 6, 0), BITNET_OK);
    for (int32_t i = 0; i < 2; ++i) {
        EXPECT_EQ(bitnet_test::logits_copy(context_.get(), i, n_vocab), bitnet_test::logits_copy(fresh.get(), i, n_vocab));
    }
}

// Aborting after 0, 1 or every layer has written its KV cells for the batch: the cache and the
// outputs are as before the call, and decoding continues exactly as in a context never aborted.
TEST_F(DecodeFailures, AbortMidForwardLeavesTheContextUnchanged) {
    const int32_t n_vocab = bitnet_model_n_vocab(model_.get());
    const int32_t n_layer = bitnet_model_n_layer(model_.get());
    ASSERT_GE(n_layer, 2);
    for (int abort_at = 1; abort_at <= n_layer + 1; ++abort_at) {
        SCOPED_TRACE("abort on poll " + std::to_string(abort_at));
        AbortPlan plan;
        bitnet_test::ContextPtr aborted = fresh_context(&plan);
        bitnet_test::ContextPtr straight = fresh_context();
        ASSERT_TRUE(aborted && straight);
        ASSERT_EQ(bitnet_test::decode_tokens(aborted.get(), {1, 2}, 0, 0), BITNET_OK);
        ASSERT_EQ(bitnet_test::decode_tokens(straight.get(), {1, 2}, 0, 0), BITNET_OK);
        std::vector<float> before = bitnet_test::logits_copy(aborted.get(), 1, n_vocab);

        plan.polls = 0;
        plan.abort_at = abort_at;
        EXPECT_EQ(bitnet_test::decode_tokens(aborted.get(), {3, 4, 5}, 2, 0), BITNET_ERR_ABORTED);
        EXPECT_EQ(plan.polls, abort_at);  // it really stopped there, after abort_at - 1 layers
        EXPECT_EQ(bitnet_last_status(), BITNET_ERR_ABORTED);
        EXPECT_EQ(bitnet_test::logits_copy(aborted.get(), 1, n_vocab), before);
        EXPECT_EQ(bitnet_get_logits(aborted.get(), 2), nullptr);  // the last good call had 2 entries
        EXPECT_EQ(bitnet_seq_pos_max(aborted.get(), 0), 1);

        // Other tokens at the same positions: any trace of the aborted batch would show.
        plan.abort_at = 0;
        ASSERT_EQ(bitnet_test::decode_tokens(aborted.get(), {6, 7}, 2, 0), BITNET_OK) << bitnet_last_error();
        ASSERT_EQ(bitnet_test::decode_tokens(straight.get(), {6, 7}, 2, 0), BITNET_OK) << bitnet_last_error();
        ASSERT_EQ(bitnet_test::decode_tokens(aborted.get(), {8}, 4, 0), BITNET_OK) << bitnet_last_error();
        ASSERT_EQ(bitnet_test::decode_tokens(straight.get(), {8}, 4, 0), BITNET_OK) << bitnet_last_error();
        EXPECT_EQ(bitnet_test::logits_copy(aborted.get(), 0, n_vocab), bitnet_test::logits_copy(straight.get(), 0, n_vocab));
        EXPECT_EQ(bitnet_seq_pos_max(aborted.get(), 0), 4);
    }
}

TEST_F(DecodeFailures, AbortLeavesTheContextUnchanged) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 8;
    params.n_batch = 8;
    params.n_outputs_max = 8;
    params.kv_type = BITNET_KV_F32;
    int calls = 0;
    params.abort_user_data = &calls;
    params.abort_callback = [](void *user) { return ++*static_cast<int *>(user) > 100; };
    bitnet_context *raw = nullptr;
    ASSERT_EQ(bitnet_context_new(model_.get(), &params, &raw), BITNET_OK);
    bitnet_test::ContextPtr context(raw);
    const int32_t n_vocab = bitnet_model_n_vocab(model_.get());
    ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {1, 2}, 0, 0), BITNET_OK);
    std::vector<float> before = bitnet_test::logits_copy(context.get(), 1, n_vocab);
    calls = 1000;  // every later poll aborts
    EXPECT_EQ(bitnet_test::decode_tokens(context.get(), {3}, 2, 0), BITNET_ERR_ABORTED);
    EXPECT_EQ(before, bitnet_test::logits_copy(context.get(), 1, n_vocab));
    calls = 0;
    // Position 2 is still the next one: the aborted token left no trace in the cache.
    ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {3}, 2, 0), BITNET_OK) << bitnet_last_error();

    // The same sequence without the abort gives the same logits.
    std::vector<float> resumed = bitnet_test::logits_copy(context.get(), 0, n_vocab);
    bitnet_test::RunOptions options;
    auto straight = bitnet_test::engine_logits(model_.get(), {1, 2, 3}, options);
    EXPECT_EQ(resumed, straight[2]);
}

TEST_F(DecodeFailures, LogitsOnlyForEntriesThatAskedForThem) {
    ASSERT_EQ(bitnet_test::decode_tokens(context_.get(), {1, 2, 3}, 0, 0, /*all_logits=*/false), BITNET_OK);
    EXPECT_EQ(bitnet_get_logits(context_.get(), 0), nullptr);
    EXPECT_NE(std::string(bitnet_last_error()).find("did not ask"), std::string::npos);
    EXPECT_NE(bitnet_get_logits(context_.get(), 2), nullptr);
    EXPECT_EQ(bitnet_get_logits(context_.get(), -1), bitnet_get_logits(context_.get(), 2));
    EXPECT_EQ(bitnet_get_logits(context_.get(), 3), nullptr);
}

TEST(Api, ContextInCallerMemory) {
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 64;
    size_t required = bitnet_context_memory_required(model.get(), &params);
    ASSERT_GT(required, 0u);
    std::vector<uint8_t> storage(required + 64);
    void *aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;

    params.buffer = aligned;
    params.buffer_size = required - 1;
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_ERR_OUT_OF_MEMORY);
    params.buffer_size = required;
    ASSERT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::decode_tokens(context, {1, 2, 3}, 0, 0, false), BITNET_OK);
    bitnet_context_free(context);
}

TEST(Api, VocabOnlyModelHasNoContext) {
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    ASSERT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_OK) << bitnet_last_error();
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(model, nullptr, &context), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find("vocab_only"), std::string::npos);
    bitnet_model_free(model);
}

// ---------------------------------------------------------------------------------------------
// Quiet by default: a fresh process that loads, decodes and fails without installing a log
// callback prints nothing to stderr. The child is this program again: with BITNET_TEST_LOG_CHILD
// set to a model path, a global environment runs the body before any test and exits.

int log_child_body(const char *model_path, bool loud) {
    if (loud) bitnet_set_log_callback(bitnet_log_to_stderr, BITNET_LOG_DEBUG, nullptr);
    bitnet_model_params params = bitnet_model_default_params();
    params.head_type = BITNET_HEAD_Q8_0;  // re-encoding the lm_head logs at info level
    bitnet_model *model = nullptr;
    // Non-ternary float projections: ternarizing them logs a warning.
    if (bitnet_model_load_file(model_path, &params, &model) != BITNET_OK) return 3;
    bitnet_context_params context_params = bitnet_context_default_params();
    context_params.n_ctx = 16;
    bitnet_context *context = nullptr;
    if (bitnet_context_new(model, &context_params, &context) != BITNET_OK) return 4;
    if (bitnet_test::decode_tokens(context, {1, 2, 3}, 0, 0, /*all_logits=*/false) != BITNET_OK) return 5;
    if (bitnet_test::decode_tokens(context, {4}, 7, 0) == BITNET_OK) return 6;  // a failing decode
    bitnet_model *missing = nullptr;
    if (bitnet_model_load_file("/nonexistent/model.gguf", nullptr, &missing) == BITNET_OK) return 7;
    bitnet_context_free(context);
    bitnet_model_free(model);
    std::printf("log child done\n");
    return 0;
}

class LogChildEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        const char *model_path = std::getenv("BITNET_TEST_LOG_CHILD");
        if (!model_path || !*model_path) return;
        const char *loud = std::getenv("BITNET_TEST_LOG_CHILD_LOUD");
        int rc = log_child_body(model_path, loud && *loud == '1');
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(rc);
    }
};

[[maybe_unused]] ::testing::Environment *const log_child_environment =
    ::testing::AddGlobalTestEnvironment(new LogChildEnvironment);

TEST(Api, QuietByDefaultNothingReachesStderr) {
    bitnet_test::ModelSpec spec;
    spec.ternary = false;  // ternarized at load, with a warning
    spec.tied = false;
    const std::string model = bitnet_test::write_temp("log-child.gguf", bitnet_test::build_model(spec));
    const std::string self = bitnet_test::self_executable();
    ASSERT_FALSE(self.empty());
    const std::string out = bitnet_test::temp_dir() + "/log-child.out", err = bitnet_test::temp_dir() + "/log-child.err";

    for (bool loud : {false, true}) {
        SCOPED_TRACE(loud ? "with bitnet_log_to_stderr installed" : "no callback");
        int rc = bitnet_test::run_process({self, "--gtest_filter=Api.VersionAndBuildInfo"},
                                          {"BITNET_TEST_LOG_CHILD=" + model,
                                           std::string("BITNET_TEST_LOG_CHILD_LOUD=") + (loud ? "1" : "0")},
                                          out, err);
        const std::vector<uint8_t> child_err = bitnet_test::read_file_if_exists(err);
        const std::string text(child_err.begin(), child_err.end());
        ASSERT_EQ(rc, 0) << "the child failed; its stderr: " << text;
        const std::vector<uint8_t> child_out = bitnet_test::read_file_if_exists(out);
        EXPECT_NE(std::string(child_out.begin(), child_out.end()).find("log child done"), std::string::npos);
        if (loud) {
            // The same work with a callback does log: the check above can see output.
            EXPECT_NE(text.find("ternarized with absmean"), std::string::npos) << text;
            EXPECT_NE(text.find("bitnet: info: "), std::string::npos) << text;
        } else {
            EXPECT_EQ(text, "") << "printed without a log callback installed";
        }
    }
}

// ---------------------------------------------------------------------------------------------
// bitnet synth's --seed takes a number or is refused (it used to read "abc" as seed 0).

TEST(CliSynth, NonNumericSeedIsRefused) {
    const std::string tool = std::string(BITNET_BINARY_DIR) + "/bin/bitnet";
    if (bitnet_test::read_file_if_exists(tool).empty()) GTEST_SKIP() << "skipped: " << tool << " is not built";
    const std::string dir = bitnet_test::temp_dir();
    for (const char *seed : {"abc", "", "12abc", "-1", "+5", " 7", "1.5", "18446744073709551616"}) {
        SCOPED_TRACE(std::string("--seed '") + seed + "'");
        const std::string output = dir + "/seed-refused.gguf";
        std::remove(output.c_str());
        int rc = bitnet_test::run_process({tool, "synth", "--preset", "tiny", "--format", "f32", "--seed", seed, "-o", output},
                                          {}, "", dir + "/seed.err");
        EXPECT_EQ(rc, 2);
        const std::vector<uint8_t> err = bitnet_test::read_file_if_exists(dir + "/seed.err");
        const std::string text(err.begin(), err.end());
        EXPECT_NE(text.find("--seed"), std::string::npos) << text;
        EXPECT_TRUE(bitnet_test::read_file_if_exists(output).empty()) << "a model was written";
    }
    // A number still works, up to 2^64 - 1, and the seed changes the weights.
    const std::string a = dir + "/seed-a.gguf", b = dir + "/seed-b.gguf";
    EXPECT_EQ(bitnet_test::run_process({tool, "synth", "--preset", "tiny", "--format", "f32", "--seed",
                                        "18446744073709551615", "-o", a}, {}, "", ""), 0);
    EXPECT_EQ(bitnet_test::run_process({tool, "synth", "--preset", "tiny", "--format", "f32", "--seed", "7", "-o", b},
                                       {}, "", ""), 0);
    EXPECT_FALSE(bitnet_test::read_file_if_exists(a).empty());
    EXPECT_NE(bitnet_test::read_file_if_exists(a), bitnet_test::read_file_if_exists(b));
}

}  // namespace
