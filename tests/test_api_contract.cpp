// The C API's error contract, walked function by function.
//
// include/bitnet.h promises that every call failing through its return value (a status, a count of
// BITNET_COUNT_ERROR, a NULL pointer, BITNET_TOKEN_NULL, 0) sets bitnet_last_error() and
// bitnet_last_status(). The table below has one row per public function, taken from the header
// itself: a new function without a row fails the test. Each row makes one invalid call and checks
// the status, that the message names the function, and that the return value is the neutral one.
// The C programs' enum values (any int) come through tests/support/c_caller.c.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bitnet.h"
#include "support/c_caller.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

// One public function: `call` makes an invalid call and returns true when the value it returned
// is the documented neutral one. A row without a call is a function that cannot fail, with why.
struct ContractRow {
    const char *function;
    bitnet_status expected;
    std::function<bool()> call;
    const char *cannot_fail_because = nullptr;
};

ContractRow cannot_fail(const char *function, const char *why) { return {function, BITNET_OK, nullptr, why}; }

std::set<std::string> header_functions() {
    std::ifstream header(std::string(BITNET_SOURCE_DIR) + "/include/bitnet.h");
    std::stringstream text;
    text << header.rdbuf();
    const std::string source = text.str();
    // "BITNET_API <return type> bitnet_name(" on one or more lines.
    const std::regex declaration(R"(BITNET_API\s+[^;(]*?\b(bitnet_\w+)\s*\()");
    std::set<std::string> names;
    for (std::sregex_iterator it(source.begin(), source.end(), declaration), end; it != end; ++it) {
        names.insert((*it)[1].str());
    }
    return names;
}

class ApiContract : public ::testing::Test {
protected:
    void SetUp() override {
        model_ = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
        ASSERT_TRUE(model_);
        bitnet_context *context = nullptr;
        ASSERT_EQ(bitnet_context_new(model_.get(), nullptr, &context), BITNET_OK) << bitnet_last_error();
        context_.reset(context);
        ASSERT_EQ(bitnet_sampler_chain_new(nullptr, &chain_), BITNET_OK);
    }
    void TearDown() override { bitnet_sampler_free(chain_); }

    std::vector<ContractRow> rows();

    bitnet_test::ModelPtr model_;
    bitnet_test::ContextPtr context_;
    bitnet_sampler *chain_ = nullptr;
};

std::vector<ContractRow> ApiContract::rows() {
    bitnet_model *m = model_.get();
    bitnet_context *c = context_.get();
    bitnet_sampler *chain = chain_;
    // Out-parameters the failing calls must leave NULL; a sentinel shows any write.
    static bitnet_model *model_out;
    static bitnet_context *context_out;
    static bitnet_batch *batch_out;
    static bitnet_sampler *sampler_out;
    static bitnet_detokenizer *detokenizer_out;
    static bitnet_speculative *speculative_out;
    static char buf[16];
    static bitnet_tensor_info info;
    static size_t written;
    static bitnet_token token;
    static int32_t seq;
    static float logits[4];
    static bitnet_chat_message message;
    message = {"user", "hi"};
    const float nan = std::nanf("");
    // The rows outlive this function: their calls capture by value (the handles, the lambdas and
    // constants above) and write only to the statics.
    auto status_is = [](bitnet_status got, bitnet_status want) { return got == want; };
    const bitnet_status bad_arg = BITNET_ERR_INVALID_ARGUMENT;
    const bitnet_status bad_input = BITNET_ERR_INVALID_INPUT;

    return {
        cannot_fail("bitnet_version", "returns a constant string"),
        cannot_fail("bitnet_version_number", "returns a constant"),
        cannot_fail("bitnet_build_info", "returns a constant string"),
        cannot_fail("bitnet_status_string", "names any int, \"unknown status\" outside the enum (EnumsFromC)"),
        cannot_fail("bitnet_last_error", "reads the per-thread message"),
        cannot_fail("bitnet_last_status", "reads the per-thread status"),
        cannot_fail("bitnet_set_log_callback", "any callback (NULL removes it) and any level (EnumsFromC)"),
        cannot_fail("bitnet_log_to_stderr", "prints any level and a NULL message as \"\" (EnumsFromC)"),
        cannot_fail("bitnet_model_default_params", "returns defaults"),
        cannot_fail("bitnet_context_default_params", "returns defaults"),
        cannot_fail("bitnet_sampler_chain_default_params", "returns defaults"),
        cannot_fail("bitnet_model_free", "NULL is a no-op, as for free()"),
        cannot_fail("bitnet_context_free", "NULL is a no-op, as for free()"),
        cannot_fail("bitnet_batch_free", "NULL is a no-op, as for free()"),
        cannot_fail("bitnet_sampler_free", "NULL is a no-op, as for free()"),
        cannot_fail("bitnet_detokenizer_free", "NULL is a no-op, as for free()"),
        cannot_fail("bitnet_speculative_free", "NULL is a no-op, as for free()"),
        cannot_fail("bitnet_speculative_default_params", "returns defaults"),

        {"bitnet_model_load_file", bad_arg, [=] { return status_is(bitnet_model_load_file(nullptr, nullptr, &model_out), bad_arg) && !model_out; }},
        {"bitnet_model_load_memory", bad_arg, [=] { return status_is(bitnet_model_load_memory(nullptr, 64, nullptr, &model_out), bad_arg) && !model_out; }},
        {"bitnet_model_architecture", bad_arg, [=] { return std::string(bitnet_model_architecture(nullptr)).empty(); }},
        {"bitnet_model_name", bad_arg, [=] { return std::string(bitnet_model_name(nullptr)).empty(); }},
        {"bitnet_model_n_params", bad_arg, [=] { return bitnet_model_n_params(nullptr) == 0; }},
        {"bitnet_model_file_size", bad_arg, [=] { return bitnet_model_file_size(nullptr) == 0; }},
        {"bitnet_model_n_layer", bad_arg, [=] { return bitnet_model_n_layer(nullptr) == 0; }},
        {"bitnet_model_n_embd", bad_arg, [=] { return bitnet_model_n_embd(nullptr) == 0; }},
        {"bitnet_model_n_head", bad_arg, [=] { return bitnet_model_n_head(nullptr) == 0; }},
        {"bitnet_model_n_head_kv", bad_arg, [=] { return bitnet_model_n_head_kv(nullptr) == 0; }},
        {"bitnet_model_n_ff", bad_arg, [=] { return bitnet_model_n_ff(nullptr) == 0; }},
        {"bitnet_model_n_vocab", bad_arg, [=] { return bitnet_model_n_vocab(nullptr) == 0; }},
        {"bitnet_model_n_ctx_train", bad_arg, [=] { return bitnet_model_n_ctx_train(nullptr) == 0; }},
        {"bitnet_model_rope_freq_base", bad_arg, [=] { return bitnet_model_rope_freq_base(nullptr) == 0.0f; }},
        {"bitnet_model_n_tensors", bad_arg, [=] { return bitnet_model_n_tensors(nullptr) == 0; }},
        {"bitnet_model_meta_value", bad_arg, [=] { return bitnet_model_meta_value(m, "no.such.key", buf, sizeof buf) == -1; }},
        {"bitnet_model_meta_count", bad_arg, [=] { return bitnet_model_meta_count(nullptr) == 0; }},
        {"bitnet_model_meta_key", bad_arg, [=] { return bitnet_model_meta_key(m, 1 << 30) == nullptr; }},
        {"bitnet_model_meta_value_by_index", bad_arg, [=] { return bitnet_model_meta_value_by_index(m, -1, 4, buf, sizeof buf) == -1; }},
        {"bitnet_model_runnable", bad_arg, [=] { return status_is(bitnet_model_runnable(nullptr), bad_arg); }},
        {"bitnet_model_tensor_info", bad_arg, [=] { info.struct_size = sizeof info; return status_is(bitnet_model_tensor_info(m, -1, &info), bad_arg); }},

        {"bitnet_context_memory_required", bad_arg, [=] { return bitnet_context_memory_required(nullptr, nullptr) == 0; }},
        {"bitnet_context_new", bad_arg, [=] { return status_is(bitnet_context_new(nullptr, nullptr, &context_out), bad_arg) && !context_out; }},
        {"bitnet_context_n_ctx", bad_arg, [=] { return bitnet_context_n_ctx(nullptr) == 0; }},
        {"bitnet_context_n_batch", bad_arg, [=] { return bitnet_context_n_batch(nullptr) == 0; }},
        {"bitnet_context_model", bad_arg, [=] { return bitnet_context_model(nullptr) == nullptr; }},
        {"bitnet_context_backend_name", bad_arg, [=] { return std::string(bitnet_context_backend_name(nullptr)).empty(); }},

        {"bitnet_batch_new", bad_arg, [=] { return status_is(bitnet_batch_new(0, &batch_out), bad_arg) && !batch_out; }},
        {"bitnet_batch_clear", bad_arg, [=] { bitnet_batch_clear(nullptr); return true; }},
        {"bitnet_batch_add", bad_arg, [=] { return status_is(bitnet_batch_add(nullptr, 0, 0, &seq, 1, true), bad_arg); }},
        {"bitnet_batch_size", bad_arg, [=] { return bitnet_batch_size(nullptr) == 0; }},
        {"bitnet_decode", bad_arg, [=] { return status_is(bitnet_decode(c, nullptr), bad_arg); }},
        {"bitnet_get_logits", bad_arg, [=] { return bitnet_get_logits(c, -1) == nullptr; }},
        {"bitnet_get_embeddings", bad_arg, [=] { return bitnet_get_embeddings(nullptr, 0) == nullptr; }},

        {"bitnet_memory_clear", bad_arg, [=] { return status_is(bitnet_memory_clear(nullptr), bad_arg); }},
        {"bitnet_seq_rm", bad_arg, [=] { return status_is(bitnet_seq_rm(nullptr, 0, 0, -1), bad_arg); }},
        {"bitnet_seq_cp", bad_arg, [=] { return status_is(bitnet_seq_cp(nullptr, 0, 1, 0, -1), bad_arg); }},
        {"bitnet_seq_keep", bad_arg, [=] { return status_is(bitnet_seq_keep(nullptr, 0), bad_arg); }},
        {"bitnet_seq_add", bad_arg, [=] { return status_is(bitnet_seq_add(nullptr, 0, 0, -1, 1), bad_arg); }},
        {"bitnet_seq_pos_min", bad_arg, [=] { return bitnet_seq_pos_min(nullptr, 0) == -1; }},
        {"bitnet_seq_pos_max", bad_arg, [=] { return bitnet_seq_pos_max(nullptr, 0) == -1; }},

        {"bitnet_state_size", bad_arg, [=] { return bitnet_state_size(nullptr) == 0; }},
        {"bitnet_state_save", bad_arg, [=] { return status_is(bitnet_state_save(nullptr, buf, sizeof buf, &written), bad_arg); }},
        {"bitnet_state_load", bad_arg, [=] { return status_is(bitnet_state_load(c, nullptr, 16), bad_arg); }},
        {"bitnet_state_save_file", bad_arg, [=] { return status_is(bitnet_state_save_file(c, nullptr), bad_arg); }},
        {"bitnet_state_load_file", BITNET_ERR_IO, [=] { return status_is(bitnet_state_load_file(c, "/nonexistent/state.bin"), BITNET_ERR_IO); }},
        {"bitnet_state_seq_size", bad_arg, [=] { return bitnet_state_seq_size(nullptr, 0) == 0; }},
        {"bitnet_state_seq_save", bad_arg, [=] { return status_is(bitnet_state_seq_save(nullptr, 0, buf, sizeof buf, &written), bad_arg); }},
        {"bitnet_state_seq_load", bad_arg, [=] { return status_is(bitnet_state_seq_load(c, 0, nullptr, 16), bad_arg); }},
        {"bitnet_state_seq_save_file", bad_arg, [=] { return status_is(bitnet_state_seq_save_file(c, 0, nullptr), bad_arg); }},
        {"bitnet_state_seq_load_file", BITNET_ERR_IO, [=] { return status_is(bitnet_state_seq_load_file(c, 0, "/nonexistent/state.bin"), BITNET_ERR_IO); }},

        {"bitnet_sampler_chain_new", bad_arg, [=] { return status_is(bitnet_sampler_chain_new(nullptr, nullptr), bad_arg); }},
        {"bitnet_sampler_chain_add", bad_arg, [=] { return status_is(bitnet_sampler_chain_add(nullptr, nullptr), bad_arg); }},
        {"bitnet_sampler_chain_n", bad_arg, [=] { return bitnet_sampler_chain_n(nullptr) == 0; }},
        {"bitnet_sampler_chain_get", bad_arg, [=] { return bitnet_sampler_chain_get(chain, 5) == nullptr; }},
        {"bitnet_sampler_init_greedy", bad_arg, [=] { return status_is(bitnet_sampler_init_greedy(nullptr), bad_arg); }},
        {"bitnet_sampler_init_dist", bad_arg, [=] { return status_is(bitnet_sampler_init_dist(1, nullptr), bad_arg); }},
        {"bitnet_sampler_init_temperature", bad_arg, [=] { return status_is(bitnet_sampler_init_temperature(nan, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_sampler_init_top_k", bad_arg, [=] { return status_is(bitnet_sampler_init_top_k(5, nullptr), bad_arg); }},
        {"bitnet_sampler_init_top_p", bad_arg, [=] { return status_is(bitnet_sampler_init_top_p(1.5f, 1, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_sampler_init_min_p", bad_arg, [=] { return status_is(bitnet_sampler_init_min_p(-0.1f, 1, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_sampler_init_typical", bad_arg, [=] { return status_is(bitnet_sampler_init_typical(2.0f, 1, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_sampler_init_penalties", bad_arg, [=] { return status_is(bitnet_sampler_init_penalties(-1, 1.1f, 0, 0, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_sampler_init_logit_bias", bad_arg, [=] { return status_is(bitnet_sampler_init_logit_bias(0, nullptr, 0, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_sampler_init_custom", bad_arg, [=] { return status_is(bitnet_sampler_init_custom(nullptr, &sampler_out), bad_arg) && !sampler_out; }},
        {"bitnet_speculative_new", bad_arg, [=] { speculative_out = reinterpret_cast<bitnet_speculative *>(&token); return status_is(bitnet_speculative_new(nullptr, nullptr, &speculative_out), bad_arg) && !speculative_out; }},
        {"bitnet_speculative_generate", bad_arg, [=] { return bitnet_speculative_generate(nullptr, chain, 0, &token, 1, &token, 1) == BITNET_COUNT_ERROR; }},
        {"bitnet_speculative_get_stats", bad_arg, [=] { return status_is(bitnet_speculative_get_stats(nullptr, nullptr), bad_arg); }},
        {"bitnet_sampler_sample", bad_arg, [=] { return bitnet_sampler_sample(nullptr, c, 0) == BITNET_TOKEN_NULL; }},
        {"bitnet_sampler_sample_logits", bad_arg, [=] { return bitnet_sampler_sample_logits(chain, logits, 0) == BITNET_TOKEN_NULL; }},
        {"bitnet_sampler_apply", bad_arg, [=] { return status_is(bitnet_sampler_apply(nullptr, nullptr), bad_arg); }},
        {"bitnet_sampler_accept", bad_arg, [=] { return status_is(bitnet_sampler_accept(nullptr, 0), bad_arg); }},
        {"bitnet_sampler_reset", bad_arg, [=] { bitnet_sampler_reset(nullptr); return true; }},
        {"bitnet_sampler_name", bad_arg, [=] { return std::string(bitnet_sampler_name(nullptr)).empty(); }},
        {"bitnet_sampler_get_seed", bad_arg, [=] { return bitnet_sampler_get_seed(nullptr) == BITNET_DEFAULT_SEED; }},
        {"bitnet_sampler_perf", bad_arg, [=] { const auto perf = bitnet_sampler_perf(nullptr); return perf.n_sample == 0 && perf.t_sample_ms == 0.0; }},
        {"bitnet_sampler_perf_reset", bad_arg, [=] { bitnet_sampler_perf_reset(nullptr); return true; }},

        {"bitnet_tokenize", bad_arg, [=] { return bitnet_tokenize(nullptr, "a", 1, &token, 1, false, false) == BITNET_COUNT_ERROR; }},
        {"bitnet_token_to_piece", bad_input, [=] { return bitnet_token_to_piece(m, -5, buf, sizeof buf, false) == BITNET_COUNT_ERROR; }},
        {"bitnet_detokenize", bad_arg, [=] { return bitnet_detokenize(m, nullptr, 1, buf, sizeof buf, false, false) == BITNET_COUNT_ERROR; }},
        {"bitnet_vocab_n_tokens", bad_arg, [=] { return bitnet_vocab_n_tokens(nullptr) == 0; }},
        {"bitnet_vocab_bos", bad_arg, [=] { return bitnet_vocab_bos(nullptr) == BITNET_TOKEN_NULL; }},
        {"bitnet_vocab_eos", bad_arg, [=] { return bitnet_vocab_eos(nullptr) == BITNET_TOKEN_NULL; }},
        {"bitnet_vocab_eot", bad_arg, [=] { return bitnet_vocab_eot(nullptr) == BITNET_TOKEN_NULL; }},
        {"bitnet_token_is_eog", bad_input, [=] { return !bitnet_token_is_eog(m, -1); }},
        {"bitnet_token_text", bad_input, [=] { return bitnet_token_text(m, bitnet_model_n_vocab(m)) == nullptr; }},
        {"bitnet_token_get_type", bad_input, [=] { return bitnet_token_get_type(m, -7) == BITNET_TOKEN_TYPE_UNDEFINED; }},
        {"bitnet_detokenizer_new", bad_arg, [=] { return status_is(bitnet_detokenizer_new(nullptr, false, &detokenizer_out), bad_arg) && !detokenizer_out; }},
        {"bitnet_detokenizer_push", bad_arg, [=] { return bitnet_detokenizer_push(nullptr, 0, buf, sizeof buf) == BITNET_COUNT_ERROR; }},
        {"bitnet_detokenizer_flush", bad_arg, [=] { return bitnet_detokenizer_flush(nullptr, buf, sizeof buf) == BITNET_COUNT_ERROR; }},
        {"bitnet_chat_apply_template", bad_arg, [=] { return bitnet_chat_apply_template(m, "no-such-template", &message, 1, true, buf, sizeof buf) == BITNET_COUNT_ERROR; }},
    };
}

TEST_F(ApiContract, EveryHeaderFunctionHasARow) {
    const std::set<std::string> declared = header_functions();
    ASSERT_GT(declared.size(), 90u) << "the header parse found too few functions";
    std::set<std::string> listed;
    for (const ContractRow &row : rows()) {
        EXPECT_TRUE(listed.insert(row.function).second) << row.function << " has two rows";
        EXPECT_TRUE(declared.count(row.function)) << row.function << " is not declared in bitnet.h";
    }
    for (const std::string &name : declared) {
        EXPECT_TRUE(listed.count(name)) << name << " is declared in bitnet.h but has no row in the contract table";
    }
}

TEST_F(ApiContract, EveryFailingCallSetsStatusMessageAndNeutralValue) {
    int failing = 0, cannot = 0;
    for (const ContractRow &row : rows()) {
        if (!row.call) {
            ++cannot;
            continue;
        }
        ++failing;
        // A different failure first, so a call that records nothing is seen.
        bitnet_model *unused = nullptr;
        ASSERT_EQ(bitnet_model_load_file("/nonexistent/reset.gguf", nullptr, &unused), BITNET_ERR_IO);
        const bool neutral = row.call();
        const std::string message = bitnet_last_error();
        EXPECT_TRUE(neutral) << row.function << " did not return its neutral value";
        EXPECT_EQ(bitnet_last_status(), row.expected) << row.function << ": " << message;
        EXPECT_EQ(message.rfind(std::string(row.function) + ": ", 0), 0u) << row.function << " wrote: " << message;
        EXPECT_GT(message.size(), std::strlen(row.function) + 8) << row.function << " wrote no reason";
    }
    std::printf("contract table: %d functions with a failing call checked, %d that cannot fail\n", failing, cannot);
}

// Enum values from a C caller may be any int; the library reads them as integers (UBSan's enum
// check fails this test if a value is loaded through the C++ enum type first).
TEST(EnumsFromC, StatusStringNamesAnyInt) {
    EXPECT_STREQ(c_caller_status_string(BITNET_ERR_IO), "i/o error");
    EXPECT_STREQ(c_caller_status_string(99), "internal error");
    for (int value : {-1, 13, 98, 100, 128, 1000, INT32_MIN, INT32_MAX}) {
        EXPECT_STREQ(c_caller_status_string(value), "unknown status") << value;
    }
}

std::vector<std::pair<int, std::string>> logged;
void remember_log(bitnet_log_level level, const char *message, void *) {
    int bits;
    std::memcpy(&bits, &level, sizeof bits);
    logged.emplace_back(bits, message);
}

TEST(EnumsFromC, LogLevelsOutsideTheEnumMeanAllOrNothing) {
    auto warnings_after_setting = [](int level) {
        logged.clear();
        c_caller_set_log_callback(remember_log, level, nullptr);
        bitnet_context_params params = bitnet_context_default_params();
        params.n_threads = 1 << 20;  // logs a warning (more threads than CPUs)
        auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
        bitnet_context *context = nullptr;
        EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_OK) << bitnet_last_error();
        bitnet_context_free(context);
        bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr);
        size_t warnings = 0;
        for (const auto &[level, message] : logged) warnings += level == BITNET_LOG_WARN;
        return warnings;
    };
    EXPECT_GE(warnings_after_setting(1000), 1u);   // above DEBUG: everything
    EXPECT_GE(warnings_after_setting(BITNET_LOG_WARN), 1u);
    EXPECT_EQ(warnings_after_setting(BITNET_LOG_ERROR), 0u);
    EXPECT_EQ(warnings_after_setting(-7), 0u);     // below ERROR: nothing
}

TEST(EnumsFromC, LogToStderrPrintsAnyLevel) {
    testing::internal::CaptureStderr();
    c_caller_log_to_stderr(BITNET_LOG_WARN, "w");
    c_caller_log_to_stderr(42, "odd");
    c_caller_log_to_stderr(-3, nullptr);
    const std::string printed = testing::internal::GetCapturedStderr();
    EXPECT_EQ(printed, "bitnet: warn: w\nbitnet: log: odd\nbitnet: log: \n");
}

TEST(EnumsFromC, ParameterEnumsOutsideTheirRangeAreRefused) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    for (int value : {-1, 5, 8, 1 << 20}) {
        bitnet_model_params params = bitnet_model_default_params();
        c_caller_set_head_type(&params, value);
        bitnet_model *model = nullptr;
        EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_ERR_INVALID_ARGUMENT) << value;
        EXPECT_EQ(model, nullptr);
        EXPECT_NE(std::string(bitnet_last_error()).find("head_type " + std::to_string(value)), std::string::npos)
            << bitnet_last_error();
    }
    auto model = bitnet_test::load_model(path);
    for (int value : {-1, 2, 4, 1 << 20}) {
        bitnet_context_params params = bitnet_context_default_params();
        c_caller_set_kv_type(&params, value);
        bitnet_context *context = nullptr;
        EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_ERR_INVALID_ARGUMENT) << value;
        EXPECT_NE(std::string(bitnet_last_error()).find("kv_type " + std::to_string(value)), std::string::npos);
        EXPECT_EQ(bitnet_context_memory_required(model.get(), &params), 0u);
    }
    for (int value : {-1, 3, 4, 1 << 20}) {
        bitnet_context_params params = bitnet_context_default_params();
        c_caller_set_backend(&params, value);
        bitnet_context *context = nullptr;
        EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_ERR_INVALID_ARGUMENT) << value;
        EXPECT_NE(std::string(bitnet_last_error()).find("backend " + std::to_string(value)), std::string::npos);
    }
}

TEST(Parameters, ProbabilitiesOutsideZeroToOneAreRefused) {
    using Init = bitnet_status (*)(float, size_t, bitnet_sampler **);
    const std::map<std::string, Init> inits = {{"top_p", bitnet_sampler_init_top_p},
                                               {"min_p", bitnet_sampler_init_min_p},
                                               {"typical", bitnet_sampler_init_typical}};
    for (const auto &[name, init] : inits) {
        for (float p : {-0.01f, 1.01f, 95.0f, INFINITY, -INFINITY, std::nanf("")}) {
            bitnet_sampler *sampler = nullptr;
            EXPECT_EQ(init(p, 1, &sampler), BITNET_ERR_INVALID_ARGUMENT) << name << " " << p;
            EXPECT_EQ(sampler, nullptr);
        }
        for (float p : {0.0f, 0.5f, 1.0f}) {
            bitnet_sampler *sampler = nullptr;
            EXPECT_EQ(init(p, 1, &sampler), BITNET_OK) << name << " " << p;
            bitnet_sampler_free(sampler);
        }
    }
}

TEST(Parameters, ALogitBiasSamplerBelongsToItsVocabulary) {
    const bitnet_logit_bias bias[] = {{3, 5.0f}};
    bitnet_sampler *biased = nullptr, *greedy = nullptr, *chain = nullptr, *other = nullptr;
    ASSERT_EQ(bitnet_sampler_init_logit_bias(8, bias, 1, &biased), BITNET_OK);
    ASSERT_EQ(bitnet_sampler_init_greedy(&greedy), BITNET_OK);
    ASSERT_EQ(bitnet_sampler_chain_new(nullptr, &chain), BITNET_OK);
    ASSERT_EQ(bitnet_sampler_chain_add(chain, biased), BITNET_OK);
    ASSERT_EQ(bitnet_sampler_chain_add(chain, greedy), BITNET_OK);
    const std::vector<float> eight(8, 0.0f), twelve(12, 0.0f);
    EXPECT_EQ(bitnet_sampler_sample_logits(chain, eight.data(), 8), 3);
    EXPECT_EQ(bitnet_sampler_sample_logits(chain, twelve.data(), 12), BITNET_TOKEN_NULL);
    EXPECT_EQ(bitnet_last_status(), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find("built for a vocabulary of 8 tokens, these logits have 12"),
              std::string::npos)
        << bitnet_last_error();
    // Another vocabulary's bias cannot join the chain either.
    ASSERT_EQ(bitnet_sampler_init_logit_bias(12, bias, 1, &other), BITNET_OK);
    EXPECT_EQ(bitnet_sampler_chain_add(chain, other), BITNET_ERR_INVALID_ARGUMENT);
    bitnet_sampler_free(other);
    // On a context: the tiny model's vocabulary is not 8 tokens.
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_NE(bitnet_model_n_vocab(model.get()), 8);
    auto context = bitnet_test::make_context(model.get(), bitnet_test::RunOptions{}, 4);
    bitnet_batch *batch = nullptr;
    ASSERT_EQ(bitnet_batch_new(1, &batch), BITNET_OK);
    int32_t seq = 0;
    ASSERT_EQ(bitnet_batch_add(batch, 1, 0, &seq, 1, true), BITNET_OK);
    ASSERT_EQ(bitnet_decode(context.get(), batch), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(bitnet_sampler_sample(chain, context.get(), -1), BITNET_TOKEN_NULL);
    EXPECT_EQ(bitnet_last_status(), BITNET_ERR_INVALID_ARGUMENT);
    bitnet_batch_free(batch);
    bitnet_sampler_free(chain);
}

TEST(Parameters, ThreadsBeyondTheMachineRunWithOnePerCpu) {
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    logged.clear();
    bitnet_set_log_callback(remember_log, BITNET_LOG_WARN, nullptr);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_threads = 100000;
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_OK) << bitnet_last_error();
    bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr);
    bool warned = false;
    for (const auto &[level, message] : logged) warned |= message.find("n_threads 100000 exceeds") != std::string::npos;
    EXPECT_TRUE(warned);
    // It still computes.
    bitnet_batch *batch = nullptr;
    ASSERT_EQ(bitnet_batch_new(1, &batch), BITNET_OK);
    int32_t seq = 0;
    ASSERT_EQ(bitnet_batch_add(batch, 1, 0, &seq, 1, true), BITNET_OK);
    EXPECT_EQ(bitnet_decode(context, batch), BITNET_OK) << bitnet_last_error();
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    params.n_threads = -1;
    EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_ERR_INVALID_ARGUMENT);
}

}  // namespace
