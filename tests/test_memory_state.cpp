// Sequence memory operations and saved states: edits of the KV cache must equal recomputing from
// scratch, and states must round-trip exactly and refuse anything damaged or foreign.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "bitnet.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

using bitnet_test::ContextPtr;
using bitnet_test::ModelPtr;

std::vector<int> random_tokens(int n, int n_vocab, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> pick(0, n_vocab - 1);
    std::vector<int> tokens(static_cast<size_t>(n));
    for (int &t : tokens) t = pick(random);
    return tokens;
}

class MemoryAndState : public ::testing::Test {
protected:
    void SetUp() override {
        model_ = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
        ASSERT_TRUE(model_);
        n_vocab_ = bitnet_model_n_vocab(model_.get());
    }
    ContextPtr context(uint32_t n_seq = 2, bitnet_kv_type kv = BITNET_KV_F32) {
        bitnet_context_params params = bitnet_context_default_params();
        params.n_ctx = 96;
        params.n_batch = 48;
        params.n_seq_max = n_seq;
        params.n_outputs_max = 48;
        params.kv_type = kv;
        bitnet_context *raw = nullptr;
        EXPECT_EQ(bitnet_context_new(model_.get(), &params, &raw), BITNET_OK) << bitnet_last_error();
        return ContextPtr(raw);
    }
    // Logits of the last token after decoding `tokens` from scratch in a fresh context.
    std::vector<float> fresh_logits(const std::vector<int> &tokens) {
        ContextPtr c = context();
        EXPECT_EQ(bitnet_test::decode_tokens(c.get(), tokens, 0, 0, false), BITNET_OK) << bitnet_last_error();
        return bitnet_test::logits_copy(c.get(), -1, n_vocab_);
    }
    double rel(const std::vector<float> &a, const std::vector<float> &b) {
        return bitnet_test::relative_rms(a, std::vector<double>(b.begin(), b.end()));
    }
    ModelPtr model_;
    int32_t n_vocab_ = 0;
};

TEST_F(MemoryAndState, SeqRmThenDecodeEqualsRecompute) {
    std::vector<int> tokens = random_tokens(20, n_vocab_, 1), tail = random_tokens(5, n_vocab_, 2);
    ContextPtr c = context();
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), tokens, 0, 0, false), BITNET_OK);
    ASSERT_EQ(bitnet_seq_rm(c.get(), 0, 12, -1), BITNET_OK);
    EXPECT_EQ(bitnet_seq_pos_max(c.get(), 0), 11);
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), tail, 12, 0, false), BITNET_OK) << bitnet_last_error();
    std::vector<int> expected_tokens(tokens.begin(), tokens.begin() + 12);
    expected_tokens.insert(expected_tokens.end(), tail.begin(), tail.end());
    double r = rel(bitnet_test::logits_copy(c.get(), -1, n_vocab_), fresh_logits(expected_tokens));
    std::printf("[ seq_rm ] rel_rms %.3g\n", r);
    EXPECT_LE(r, 1e-4);
}

TEST_F(MemoryAndState, SeqCpSharesAPrefixBetweenSequences) {
    std::vector<int> prefix = random_tokens(10, n_vocab_, 3), a = random_tokens(4, n_vocab_, 4),
                     b = random_tokens(6, n_vocab_, 5);
    ContextPtr c = context();
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), prefix, 0, 0, false), BITNET_OK);
    ASSERT_EQ(bitnet_seq_cp(c.get(), 0, 1, 0, -1), BITNET_OK);
    EXPECT_EQ(bitnet_seq_pos_max(c.get(), 1), 9);
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), a, 10, 0, false), BITNET_OK) << bitnet_last_error();
    std::vector<float> logits_a = bitnet_test::logits_copy(c.get(), -1, n_vocab_);
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), b, 10, 1, false), BITNET_OK) << bitnet_last_error();
    std::vector<float> logits_b = bitnet_test::logits_copy(c.get(), -1, n_vocab_);

    std::vector<int> full_a = prefix, full_b = prefix;
    full_a.insert(full_a.end(), a.begin(), a.end());
    full_b.insert(full_b.end(), b.begin(), b.end());
    EXPECT_LE(rel(logits_a, fresh_logits(full_a)), 1e-4);
    EXPECT_LE(rel(logits_b, fresh_logits(full_b)), 1e-4);

    // seq_keep(1) drops sequence 0's own cells and keeps the shared prefix for sequence 1.
    ASSERT_EQ(bitnet_seq_keep(c.get(), 1), BITNET_OK);
    EXPECT_EQ(bitnet_seq_pos_max(c.get(), 0), -1);
    EXPECT_EQ(bitnet_seq_pos_max(c.get(), 1), 15);
    EXPECT_EQ(bitnet_seq_pos_min(c.get(), 1), 0);
}

TEST_F(MemoryAndState, SeqAddReRotatesKeys) {
    // Attention with RoPE depends only on relative positions, so moving a whole sequence by any
    // delta and continuing equals never having moved it, when the keys are re-rotated correctly.
    std::vector<int> tokens = random_tokens(24, n_vocab_, 6), next = random_tokens(3, n_vocab_, 7);
    for (int32_t delta : {7, 50}) {
        ContextPtr c = context();
        ASSERT_EQ(bitnet_test::decode_tokens(c.get(), tokens, 0, 0, false), BITNET_OK);
        ASSERT_EQ(bitnet_seq_add(c.get(), 0, 0, -1, delta), BITNET_OK);
        EXPECT_EQ(bitnet_seq_pos_min(c.get(), 0), delta);
        ASSERT_EQ(bitnet_test::decode_tokens(c.get(), next, 24 + delta, 0, false), BITNET_OK) << bitnet_last_error();
        std::vector<int> all = tokens;
        all.insert(all.end(), next.begin(), next.end());
        double r = rel(bitnet_test::logits_copy(c.get(), -1, n_vocab_), fresh_logits(all));
        std::printf("[ seq_add %+d ] rel_rms %.3g\n", delta, r);
        EXPECT_LE(r, 1e-4);
    }
}

TEST_F(MemoryAndState, ContextShiftKeepsTheCacheConsistent) {
    // The chat context shift: keep 4 tokens, drop 6, move the rest down. The moved cells keep what
    // the dropped tokens contributed to them (as in every engine), so only consistency is exact:
    // positions continue, and decoding goes on without error.
    std::vector<int> tokens = random_tokens(24, n_vocab_, 16);
    ContextPtr c = context();
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), tokens, 0, 0, false), BITNET_OK);
    ASSERT_EQ(bitnet_seq_rm(c.get(), 0, 4, 10), BITNET_OK);
    ASSERT_EQ(bitnet_seq_add(c.get(), 0, 10, -1, -6), BITNET_OK);
    EXPECT_EQ(bitnet_seq_pos_max(c.get(), 0), 17);
    EXPECT_EQ(bitnet_test::decode_tokens(c.get(), {3}, 18, 0), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::decode_tokens(c.get(), {3}, 24, 0), BITNET_ERR_INVALID_INPUT);
}

TEST_F(MemoryAndState, MemoryOpsRejectBadSequenceIds) {
    ContextPtr c = context();
    EXPECT_EQ(bitnet_seq_cp(c.get(), 0, 5, 0, -1), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_seq_keep(c.get(), -1), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_seq_add(nullptr, 0, 0, -1, 1), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_seq_pos_max(c.get(), 9), -1);
    EXPECT_EQ(bitnet_memory_clear(c.get()), BITNET_OK);
}

std::vector<uint8_t> save_context(bitnet_context *c) {
    std::vector<uint8_t> bytes(bitnet_state_size(c));
    size_t written = 0;
    EXPECT_EQ(bitnet_state_save(c, bytes.data(), bytes.size(), &written), BITNET_OK) << bitnet_last_error();
    bytes.resize(written);
    return bytes;
}

TEST_F(MemoryAndState, ContextStateRoundTripIsBitIdentical) {
    std::vector<int> prompt = random_tokens(40, n_vocab_, 8);
    ContextPtr a = context();
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), prompt, 0, 0, false), BITNET_OK);
    auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> state = save_context(a.get());
    double save_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    ContextPtr b = context();
    start = std::chrono::steady_clock::now();
    ASSERT_EQ(bitnet_state_load(b.get(), state.data(), state.size()), BITNET_OK) << bitnet_last_error();
    double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const double raw = 40.0 * 2 * 2 * 128 * 4 + n_vocab_ * 4.0;  // cells x layers x (K,V) x n_embd_kv x f32 + logits
    std::printf("[ state ] %zu bytes (payload ~%.0f, ratio %.2f), save %.2f ms, load %.2f ms\n", state.size(), raw,
                raw / state.size(), save_ms, load_ms);

    EXPECT_EQ(bitnet_test::logits_copy(a.get(), -1, n_vocab_), bitnet_test::logits_copy(b.get(), -1, n_vocab_));
    EXPECT_EQ(bitnet_seq_pos_max(b.get(), 0), 39);
    std::vector<int> next = {5};
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), next, 40, 0), BITNET_OK);
    ASSERT_EQ(bitnet_test::decode_tokens(b.get(), next, 40, 0), BITNET_OK);
    EXPECT_EQ(bitnet_test::logits_copy(a.get(), 0, n_vocab_), bitnet_test::logits_copy(b.get(), 0, n_vocab_));
}

TEST_F(MemoryAndState, StateFileRoundTrip) {
    ContextPtr a = context(2, BITNET_KV_F16);
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), random_tokens(16, n_vocab_, 9), 0, 0, false), BITNET_OK);
    std::string path = bitnet_test::temp_dir() + "/context.state";
    ASSERT_EQ(bitnet_state_save_file(a.get(), path.c_str()), BITNET_OK) << bitnet_last_error();
    ContextPtr b = context(2, BITNET_KV_F16);
    ASSERT_EQ(bitnet_state_load_file(b.get(), path.c_str()), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::logits_copy(a.get(), -1, n_vocab_), bitnet_test::logits_copy(b.get(), -1, n_vocab_));
    // A context with another KV type refuses it, precisely.
    ContextPtr c = context(2, BITNET_KV_F32);
    EXPECT_EQ(bitnet_state_load_file(c.get(), path.c_str()), BITNET_ERR_INVALID_STATE);
    EXPECT_NE(std::string(bitnet_last_error()).find("KV cache"), std::string::npos) << bitnet_last_error();
    EXPECT_EQ(bitnet_state_load_file(c.get(), "/nonexistent/state"), BITNET_ERR_IO);
}

TEST_F(MemoryAndState, OneSequenceMovesToAnotherContext) {
    std::vector<int> prompt = random_tokens(12, n_vocab_, 10), more = random_tokens(4, n_vocab_, 11);
    ContextPtr a = context();
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), random_tokens(7, n_vocab_, 12), 0, 0, false), BITNET_OK);
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), prompt, 0, 1, false), BITNET_OK);
    std::vector<uint8_t> state(bitnet_state_seq_size(a.get(), 1));
    size_t written = 0;
    ASSERT_EQ(bitnet_state_seq_save(a.get(), 1, state.data(), state.size(), &written), BITNET_OK) << bitnet_last_error();
    state.resize(written);

    ContextPtr b = context();
    ASSERT_EQ(bitnet_state_seq_load(b.get(), 0, state.data(), state.size()), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_seq_pos_max(b.get(), 0), 11);
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), more, 12, 1, false), BITNET_OK);
    ASSERT_EQ(bitnet_test::decode_tokens(b.get(), more, 12, 0, false), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::logits_copy(a.get(), -1, n_vocab_), bitnet_test::logits_copy(b.get(), -1, n_vocab_));
    // A context state is not a sequence state.
    EXPECT_EQ(bitnet_state_load(b.get(), state.data(), state.size()), BITNET_ERR_INVALID_STATE);
}

TEST_F(MemoryAndState, EverySingleByteFlipIsDetectedAndLeavesTheContextUntouched) {
    ContextPtr a = context();
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), random_tokens(3, n_vocab_, 13), 0, 0, false), BITNET_OK);
    std::vector<uint8_t> state = save_context(a.get());

    ContextPtr target = context();
    std::vector<int> target_tokens = random_tokens(5, n_vocab_, 14);
    ASSERT_EQ(bitnet_test::decode_tokens(target.get(), target_tokens, 0, 0, false), BITNET_OK);
    std::vector<float> before = bitnet_test::logits_copy(target.get(), -1, n_vocab_);
    std::map<std::string, int> messages;
    for (size_t i = 0; i < state.size(); ++i) {
        std::vector<uint8_t> damaged = state;
        damaged[i] ^= 0x01;
        ASSERT_EQ(bitnet_state_load(target.get(), damaged.data(), damaged.size()), BITNET_ERR_INVALID_STATE)
            << "flip at byte " << i << " of " << state.size() << " went unnoticed";
        ++messages[bitnet_last_error()];
    }
    for (size_t n = 0; n < state.size(); n += 7) {
        ASSERT_EQ(bitnet_state_load(target.get(), state.data(), n), BITNET_ERR_INVALID_STATE) << "truncated to " << n;
    }
    std::printf("[ state ] %zu single-byte flips and all truncations refused; messages:\n", state.size());
    for (const auto &[message, count] : messages) std::printf("  %5d x %s\n", count, message.c_str());
    EXPECT_EQ(before, bitnet_test::logits_copy(target.get(), -1, n_vocab_));
    EXPECT_EQ(bitnet_seq_pos_max(target.get(), 0), 4);
    ASSERT_EQ(bitnet_test::decode_tokens(target.get(), {1}, 5, 0), BITNET_OK) << bitnet_last_error();
}

TEST_F(MemoryAndState, StateFromAnotherModelIsRefused) {
    ContextPtr a = context();
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), {1, 2, 3}, 0, 0, false), BITNET_OK);
    std::vector<uint8_t> state = save_context(a.get());
    // Same shape and metadata, other weights: the fingerprint's data samples tell them apart.
    ModelPtr other = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s", "relu2", 2));
    ASSERT_TRUE(other);
    bitnet_context *raw = nullptr;
    ASSERT_EQ(bitnet_context_new(other.get(), nullptr, &raw), BITNET_OK);
    ContextPtr c(raw);
    EXPECT_EQ(bitnet_state_load(c.get(), state.data(), state.size()), BITNET_ERR_INVALID_STATE);
    EXPECT_NE(std::string(bitnet_last_error()).find("another model"), std::string::npos) << bitnet_last_error();
}

TEST_F(MemoryAndState, SaveIntoASmallBufferFailsCleanly) {
    ContextPtr a = context();
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), {1, 2, 3}, 0, 0, false), BITNET_OK);
    std::vector<uint8_t> small(16);
    size_t written = 123;
    EXPECT_EQ(bitnet_state_save(a.get(), small.data(), small.size(), &written), BITNET_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(written, 0u);
}

}  // namespace
