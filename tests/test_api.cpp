// The C API's contract: statuses, messages, NULL handling, parameters, loading from memory and
// cancellation, and decode failures that leave the context usable and unchanged.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "bitnet.h"
#include "support/engine_runner.h"
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
    bitnet_model *model = nullptr;
    ASSERT_EQ(bitnet_model_load_memory(bytes.data(), bytes.size(), nullptr, &model), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_model_file_size(model), bytes.size());
    bitnet_model_free(model);
    EXPECT_EQ(bitnet_model_load_memory(bytes.data() + 1, bytes.size() - 1, nullptr, &model), BITNET_ERR_INVALID_ARGUMENT);
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

class DecodeFailures : public ::testing::Test {
protected:
    void SetUp() override {
        model_ = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
        ASSERT_TRUE(model_);
        bitnet_context_params params = bitnet_context_default_params();
        params.n_ctx = 8;
        params.n_batch = 8;
        params.n_seq_max = 2;
        params.n_outputs_max = 8;
        params.kv_type = BITNET_KV_F32;
        bitnet_context *context = nullptr;
        ASSERT_EQ(bitnet_context_new(model_.get(), &params, &context), BITNET_OK) << bitnet_last_error();
        context_.reset(context);
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
    ASSERT_EQ(bitnet_test::decode_tokens(context_.get(), {1, 2, 3, 4, 5, 6}, 0, 0), BITNET_OK);
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {7, 8, 9}, 6, 0), BITNET_ERR_CONTEXT_FULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("free cells"), std::string::npos);
    EXPECT_EQ(bitnet_test::decode_tokens(context_.get(), {7, 8}, 6, 0), BITNET_OK) << bitnet_last_error();
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

}  // namespace
