// Sequence memory operations and saved states: edits of the KV cache must equal recomputing from
// scratch, and states must round-trip exactly and refuse anything damaged or foreign.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <chrono>
#include <cstdio>
#include <cstring>
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

// A message with its numbers blanked, so that messages of one kind count together.
std::string message_kind(const std::string &message) {
    std::string out;
    for (size_t i = 0; i < message.size(); ++i) {
        if (message[i] >= '0' && message[i] <= '9') {
            if (out.empty() || out.back() != 'N') out += 'N';
        } else {
            out += message[i];
        }
    }
    return out;
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

TEST_F(MemoryAndState, EveryDamagedStateFileIsRefusedPreciselyAndLeavesTheContextUntouched) {
    // A small state (two cells of an f16 cache), so that every byte and every length can be tried.
    ContextPtr a = context(2, BITNET_KV_F16);
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), random_tokens(2, n_vocab_, 13), 0, 0, false), BITNET_OK);
    const std::string saved_path = bitnet_test::temp_dir() + "/small.state";
    ASSERT_EQ(bitnet_state_save_file(a.get(), saved_path.c_str()), BITNET_OK) << bitnet_last_error();
    const std::vector<uint8_t> state = bitnet_test::read_file(saved_path);
    ASSERT_GT(state.size(), 48u);
    ASSERT_LT(state.size(), 16384u) << "the state should stay small enough to try every byte";

    ContextPtr target = context(2, BITNET_KV_F16);
    ASSERT_EQ(bitnet_test::decode_tokens(target.get(), random_tokens(5, n_vocab_, 14), 0, 0, false), BITNET_OK);
    const std::vector<float> logits_before = bitnet_test::logits_copy(target.get(), -1, n_vocab_);
    const std::vector<uint8_t> target_before = save_context(target.get());

    // One file, damaged in place and repaired after each try (cheaper than writing 10000 files).
    const std::string path = bitnet_test::temp_dir() + "/damaged.state";
    bitnet_test::write_file(path, state);
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    std::map<std::string, int> kinds;
    // The file as it is now must be refused with INVALID_STATE and a message naming the file and
    // containing `expected`.
    auto expect_refused = [&](const std::string &what, const char *expected) {
        bitnet_status status = bitnet_state_load_file(target.get(), path.c_str());
        const std::string message = bitnet_last_error();
        EXPECT_EQ(status, BITNET_ERR_INVALID_STATE) << what << " went unnoticed or got another status: " << message;
        EXPECT_TRUE(contains(message, expected)) << what << ": message lacks '" << expected << "': " << message;
        EXPECT_TRUE(contains(message, path)) << what << ": message does not name the file: " << message;
        const size_t reason = message.rfind("state: ");
        ++kinds[message_kind(reason == std::string::npos ? message : message.substr(reason))];
        return status == BITNET_ERR_INVALID_STATE;
    };
    auto put_byte = [&](size_t offset, uint8_t value) {
        return ::pwrite(fd, &value, 1, static_cast<off_t>(offset)) == 1;
    };

    size_t flips = 0;
    for (size_t i = 0; i < state.size(); ++i) {
        // Header: magic 0-3, version 4-7, kind 8-11, reserved 12-15, fingerprint 16-23, payload
        // size 24-31, compressed size 32-39; then the compressed payload and the checksum.
        const char *expected = i < 4 ? "bad magic" : i < 8 ? "format version" : i < 12 ? "holds a"
                             : (i >= 32 && i < 40) ? "header declares" : "checksum mismatch: the state is corrupted";
        for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80)}) {
            ASSERT_TRUE(put_byte(i, state[i] ^ mask));
            ASSERT_TRUE(expect_refused("byte " + std::to_string(i) + " xor " + std::to_string(mask), expected));
            ASSERT_TRUE(put_byte(i, state[i]));
            ++flips;
        }
    }
    ASSERT_TRUE(put_byte(state.size(), 0));
    ASSERT_TRUE(expect_refused("one byte appended", "bytes appended"));
    for (size_t n = state.size(); n-- > 0;) {  // every length, shortest last
        ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(n)), 0);
        const char *expected = n == 0 ? "is empty (0 bytes)" : n < 48 ? "too short" : "truncated";
        ASSERT_TRUE(expect_refused("truncated to " + std::to_string(n), expected));
    }
    ::close(fd);

    std::printf("[ state ] %zu single-bit flips and %zu truncations of a %zu-byte state file refused; messages:\n",
                flips, state.size(), state.size());
    for (const auto &[kind, count] : kinds) std::printf("  %5d x %s\n", count, kind.c_str());
    EXPECT_EQ(save_context(target.get()), target_before) << "a refused state changed the context";
    EXPECT_EQ(bitnet_test::logits_copy(target.get(), -1, n_vocab_), logits_before);
    EXPECT_EQ(bitnet_seq_pos_max(target.get(), 0), 4);
    ASSERT_EQ(bitnet_test::decode_tokens(target.get(), {1}, 5, 0), BITNET_OK) << bitnet_last_error();

    // The undamaged file still loads: the refusals above are about the damage.
    ContextPtr fresh = context(2, BITNET_KV_F16);
    ASSERT_EQ(bitnet_state_load_file(fresh.get(), saved_path.c_str()), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_test::logits_copy(fresh.get(), -1, n_vocab_), bitnet_test::logits_copy(a.get(), -1, n_vocab_));
}

TEST_F(MemoryAndState, EmptyStateFileIsAnInvalidState) {
    const std::string path = bitnet_test::temp_dir() + "/empty.state";
    bitnet_test::write_file(path, {});
    ContextPtr c = context();
    ASSERT_EQ(bitnet_test::decode_tokens(c.get(), {1, 2, 3}, 0, 0, false), BITNET_OK);
    const std::vector<uint8_t> before = save_context(c.get());
    EXPECT_EQ(bitnet_state_load_file(c.get(), path.c_str()), BITNET_ERR_INVALID_STATE);
    EXPECT_TRUE(contains(bitnet_last_error(), "is empty (0 bytes)")) << bitnet_last_error();
    EXPECT_EQ(bitnet_state_seq_load_file(c.get(), 1, path.c_str()), BITNET_ERR_INVALID_STATE);
    EXPECT_TRUE(contains(bitnet_last_error(), "is empty (0 bytes)")) << bitnet_last_error();
    const uint8_t nothing = 0;
    EXPECT_EQ(bitnet_state_load(c.get(), &nothing, 0), BITNET_ERR_INVALID_STATE);
    EXPECT_TRUE(contains(bitnet_last_error(), "empty")) << bitnet_last_error();
    // A file that is no state at all (a model) is refused as one, not as a bad model.
    EXPECT_EQ(bitnet_state_load_file(c.get(), bitnet_test::synthetic_model("tiny", "i2_s").c_str()),
              BITNET_ERR_INVALID_STATE);
    EXPECT_TRUE(contains(bitnet_last_error(), "bad magic")) << bitnet_last_error();
    EXPECT_EQ(save_context(c.get()), before);
}

TEST_F(MemoryAndState, ForeignFingerprintWithAValidChecksumIsRefused) {
    // A state that is intact as bytes (its checksum recomputed) but names another model.
    ContextPtr a = context();
    ASSERT_EQ(bitnet_test::decode_tokens(a.get(), {1, 2, 3}, 0, 0, false), BITNET_OK);
    std::vector<uint8_t> state = save_context(a.get());
    uint64_t fingerprint;
    std::memcpy(&fingerprint, state.data() + 16, 8);
    fingerprint ^= 0x0123456789abcdefull;
    std::memcpy(state.data() + 16, &fingerprint, 8);
    const uint64_t checksum = XXH3_64bits(state.data(), state.size() - 8);
    std::memcpy(state.data() + state.size() - 8, &checksum, 8);

    ContextPtr target = context();
    ASSERT_EQ(bitnet_test::decode_tokens(target.get(), {4, 5}, 0, 0, false), BITNET_OK);
    const std::vector<uint8_t> before = save_context(target.get());
    EXPECT_EQ(bitnet_state_load(target.get(), state.data(), state.size()), BITNET_ERR_INVALID_STATE);
    EXPECT_TRUE(contains(bitnet_last_error(), "saved from another model")) << bitnet_last_error();
    const std::string path = bitnet_test::temp_dir() + "/foreign.state";
    bitnet_test::write_file(path, state);
    EXPECT_EQ(bitnet_state_load_file(target.get(), path.c_str()), BITNET_ERR_INVALID_STATE);
    EXPECT_TRUE(contains(bitnet_last_error(), "saved from another model")) << bitnet_last_error();
    EXPECT_EQ(save_context(target.get()), before);
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
