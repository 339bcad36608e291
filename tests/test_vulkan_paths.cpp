// The Vulkan backend's device-dependent paths and its host traffic:
//  - the ternary matmul variants (packed int8 dot products or four multiplies; subgroup or
//    shared-memory reductions), each forced through the environment (BITNET_VULKAN_NO_INTEGER_DOT,
//    BITNET_VULKAN_NO_SUBGROUP) and compared with the CPU backend on every ternary format, in one
//    batch (the mat-mat pipelines) and token by token (the mat-vec ones), and on the fixture
//    models' expected greedy tokens;
//  - a decode step's traffic: one submit, one fence wait and one host read (the logits) per
//    bitnet_decode, and a context shift that reads nothing back (keys rotated on the device).
// Each test case runs in its own process under ctest, so the environment a case sets before its
// first context decides how that process's device is opened.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "api/build_info.h"
#include "backend/vulkan_traffic.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

using bitnet_test::RunOptions;

// Why an explicit Vulkan context cannot be made here; "" when it can.
std::string vulkan_problem() {
    if (!bitnet::built_with_vulkan()) return "this build has no Vulkan backend";
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    if (!model) return "the test model did not load";
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 16;
    params.backend = BITNET_BACKEND_VULKAN;
    bitnet_context *context = nullptr;
    if (bitnet_context_new(model.get(), &params, &context) != BITNET_OK) return bitnet_last_error();
    bitnet_context_free(context);
    return "";
}

// As in test_vulkan.cpp: a build without Vulkan skips; with Vulkan but no device it fails (CI has
// lavapipe) unless BITNET_TEST_ALLOW_NO_VULKAN=1.
#define REQUIRE_VULKAN()                                                                           \
    do {                                                                                           \
        const std::string problem = vulkan_problem();                                              \
        if (!problem.empty()) {                                                                    \
            const char *allow = std::getenv("BITNET_TEST_ALLOW_NO_VULKAN");                        \
            if (!bitnet::built_with_vulkan() || (allow && std::strcmp(allow, "1") == 0)) {         \
                GTEST_SKIP() << "skipped: no usable Vulkan device: " << problem;                  \
            }                                                                                      \
            FAIL() << "no usable Vulkan device: " << problem;                                      \
        }                                                                                          \
    } while (0)

std::vector<int> random_tokens(int n, int n_vocab, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> pick(0, n_vocab - 1);
    std::vector<int> tokens(static_cast<size_t>(n));
    for (int &t : tokens) t = pick(random);
    return tokens;
}

double worst_rel_rms(const std::vector<std::vector<float>> &actual, const std::vector<std::vector<float>> &expected) {
    EXPECT_EQ(actual.size(), expected.size());
    double worst = 0.0;
    for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
        worst = std::max(worst, bitnet_test::relative_rms(actual[i], std::vector<double>(expected[i].begin(), expected[i].end())));
    }
    return worst;
}

std::vector<int> expected_greedy(const std::string &path) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("greedy ", 0) != 0) continue;
        std::istringstream words(line.substr(7));
        std::vector<int> tokens;
        int t;
        while (words >> t) tokens.push_back(t);
        return tokens;
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Matmul paths
// ---------------------------------------------------------------------------------------------

struct PathCase {
    const char *name;
    bool no_integer_dot;
    bool no_subgroup;
};

class VulkanMatmulPath : public ::testing::TestWithParam<PathCase> {
protected:
    void SetUp() override {
        const PathCase c = GetParam();
        // Before any device is opened in this process (each case is a process of its own).
        if (c.no_integer_dot) setenv("BITNET_VULKAN_NO_INTEGER_DOT", "1", 1);
        if (c.no_subgroup) setenv("BITNET_VULKAN_NO_SUBGROUP", "1", 1);
    }
    void TearDown() override {
        unsetenv("BITNET_VULKAN_NO_INTEGER_DOT");
        unsetenv("BITNET_VULKAN_NO_SUBGROUP");
    }
    // The path the device was opened with; forced-off features must be off.
    void check_path() {
        const PathCase c = GetParam();
        const std::string path = bitnet::vulkan_last_matmul_path();
        std::printf("[ %s ] ternary matmul path: %s\n", c.name, path.c_str());
        ASSERT_FALSE(path.empty());
        if (c.no_integer_dot) {
            EXPECT_EQ(path.find("integer-dot"), std::string::npos) << path;
        }
        if (c.no_subgroup) {
            EXPECT_EQ(path.find("+subgroup"), std::string::npos) << path;
        }
        // lavapipe (Mesa 22+, Vulkan 1.3) has both features: there the default must use them, so
        // the variants really run on the machines of this project.
        if (!c.no_integer_dot && !c.no_subgroup && lavapipe_) {
            EXPECT_EQ(path, "integer-dot+subgroup");
        }
    }
    bool lavapipe_ = false;
};

TEST_P(VulkanMatmulPath, TernaryFormatsMatchCpu) {
    REQUIRE_VULKAN();
    lavapipe_ = bitnet_build_info() && std::strstr(bitnet_build_info(), "llvmpipe") != nullptr;
    check_path();
    for (const char *format : {"i2_s", "tq2_0", "tq1_0"}) {
        auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", format));
        ASSERT_TRUE(model);
        // 21 tokens: two full mat-mat workgroups of 8 tokens and a partial one.
        const std::vector<int> tokens = random_tokens(21, bitnet_model_n_vocab(model.get()), 19);
        for (bool one_batch : {true, false}) {
            RunOptions options;  // int8 activations: the ternary matmul shaders
            options.one_batch = one_batch;
            auto cpu = bitnet_test::engine_logits(model.get(), tokens, options);
            options.backend = BITNET_BACKEND_VULKAN;
            auto vulkan = bitnet_test::engine_logits(model.get(), tokens, options);
            const double worst = worst_rel_rms(vulkan, cpu);
            std::printf("[ %s %s, %s ] vulkan vs cpu: worst rel_rms %.3g (limit 0.04)\n", GetParam().name, format,
                        one_batch ? "one batch (mat-mat)" : "token by token (mat-vec)", worst);
            EXPECT_LE(worst, 0.04) << format;
        }
    }
}

TEST_P(VulkanMatmulPath, FixtureGreedyTokensMatchExpected) {
    REQUIRE_VULKAN();
    BITNET_REQUIRE_FIXTURE(model_path, "tiny/aidreams260K-bitnet-ternary-scaled.gguf");
    BITNET_REQUIRE_FIXTURE(expected_path, "tiny/aidreams260K-bitnet-ternary-scaled.expected-a8.txt");
    const std::vector<int> expected = expected_greedy(expected_path);
    ASSERT_EQ(expected.size(), 24u);
    auto model = bitnet_test::load_model(model_path);
    ASSERT_TRUE(model);
    RunOptions options;
    options.backend = BITNET_BACKEND_VULKAN;
    auto context = bitnet_test::make_context(model.get(), options, 25);
    ASSERT_TRUE(context);
    check_path();
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    std::vector<int> out;
    int token = 1;
    for (int pos = 0; pos < 24; ++pos) {
        ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {token}, pos, 0), BITNET_OK) << bitnet_last_error();
        const float *logits = bitnet_get_logits(context.get(), 0);
        ASSERT_NE(logits, nullptr);
        token = static_cast<int>(std::max_element(logits, logits + n_vocab) - logits);
        out.push_back(token);
    }
    EXPECT_EQ(out, expected);
}

INSTANTIATE_TEST_SUITE_P(Paths, VulkanMatmulPath,
                         ::testing::Values(PathCase{"device default", false, false},
                                           PathCase{"no integer dot", true, false},
                                           PathCase{"no subgroup", false, true},
                                           PathCase{"portable", true, true}),
                         [](const auto &info) {
                             std::string name = info.param.name;
                             for (char &ch : name) {
                                 if (ch == ' ') ch = '_';
                             }
                             return name;
                         });

// ---------------------------------------------------------------------------------------------
// The lm_head re-encoded at load (bitnet_model_params.head_type, the CLI's --head-type)
// ---------------------------------------------------------------------------------------------

TEST(VulkanHeadType, EveryHeadTypeMatchesCpu) {
    REQUIRE_VULKAN();
    const std::string path = bitnet_test::synthetic_model("tiny", "tq2_0");
    for (bitnet_head_type head : {BITNET_HEAD_F16, BITNET_HEAD_Q8_0, BITNET_HEAD_Q6_K, BITNET_HEAD_Q4_0}) {
        bitnet_model_params params = bitnet_model_default_params();
        params.head_type = head;
        bitnet_model *raw = nullptr;
        ASSERT_EQ(bitnet_model_load_file(path.c_str(), &params, &raw), BITNET_OK) << bitnet_last_error();
        bitnet_test::ModelPtr model(raw);
        const std::vector<int> tokens = random_tokens(10, bitnet_model_n_vocab(model.get()), 29);
        for (bool quantize : {false, true}) {
            RunOptions options;
            options.quantize_activations = quantize;
            options.backend = BITNET_BACKEND_VULKAN;
            auto vulkan = bitnet_test::engine_logits(model.get(), tokens, options);
            options.backend = BITNET_BACKEND_CPU;
            auto cpu = bitnet_test::engine_logits(model.get(), tokens, options);
            const double worst = worst_rel_rms(vulkan, cpu), limit = quantize ? 0.04 : 1e-3;
            std::printf("[ head type %d, %s activations ] vulkan vs cpu: worst rel_rms %.3g (limit %g)\n",
                        static_cast<int>(head), quantize ? "int8" : "float", worst, limit);
            EXPECT_LE(worst, limit) << "head type " << head;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Host traffic per decode step
// ---------------------------------------------------------------------------------------------

bitnet::VulkanTraffic since(const bitnet::VulkanTraffic &before) {
    const bitnet::VulkanTraffic now = bitnet::vulkan_traffic();
    return {now.submits - before.submits, now.fence_waits - before.fence_waits, now.host_reads - before.host_reads};
}

TEST(VulkanDecodeTraffic, OneSubmitOneWaitAndOnlyTheLogitsReadPerDecode) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    const std::vector<int> tokens = random_tokens(12, n_vocab, 23);
    RunOptions options;
    options.backend = BITNET_BACKEND_VULKAN;
    auto context = bitnet_test::make_context(model.get(), options, 32);
    ASSERT_TRUE(context);

    // A prompt in one batch, every position asking for logits: still one of each.
    bitnet::VulkanTraffic before = bitnet::vulkan_traffic();
    ASSERT_EQ(bitnet_test::decode_tokens(context.get(), tokens, 0, 0), BITNET_OK) << bitnet_last_error();
    bitnet::VulkanTraffic step = since(before);
    EXPECT_EQ(step.submits, 1u);
    EXPECT_EQ(step.fence_waits, 1u);
    EXPECT_EQ(step.host_reads, 1u) << "the logits only";

    // Decode steps of one token: the embedding lookup is on the device, so nothing but the
    // logits crosses back, and nothing is submitted outside the step's one command buffer.
    int token = tokens.back();
    for (int pos = 12; pos < 20; ++pos) {
        before = bitnet::vulkan_traffic();
        ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {token}, pos, 0), BITNET_OK) << bitnet_last_error();
        step = since(before);
        EXPECT_EQ(step.submits, 1u) << "position " << pos;
        EXPECT_EQ(step.fence_waits, 1u) << "position " << pos;
        EXPECT_EQ(step.host_reads, 1u) << "position " << pos;
        const float *logits = bitnet_get_logits(context.get(), 0);
        ASSERT_NE(logits, nullptr);
        token = static_cast<int>(std::max_element(logits, logits + n_vocab) - logits);
    }

    // A context shift rotates the cached keys on the device: no key is read back.
    before = bitnet::vulkan_traffic();
    ASSERT_EQ(bitnet_seq_rm(context.get(), 0, 2, 8), BITNET_OK) << bitnet_last_error();
    ASSERT_EQ(bitnet_seq_add(context.get(), 0, 8, -1, -6), BITNET_OK) << bitnet_last_error();
    step = since(before);
    EXPECT_EQ(step.host_reads, 0u) << "keys read back for a context shift";
    EXPECT_EQ(step.submits, step.fence_waits);
    EXPECT_LE(step.submits, 1u) << "12 moved cells fit one rotation pass";
}

}  // namespace
