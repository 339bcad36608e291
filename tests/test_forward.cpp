// The engine's forward pass against the double-precision reference (tests/reference/), on
// synthetic models of every format and both FFN activations, and on the fixture tiny models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

using bitnet_test::RunOptions;

std::vector<int> random_tokens(int n, int n_vocab, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> pick(0, n_vocab - 1);
    std::vector<int> tokens(static_cast<size_t>(n));
    for (int &t : tokens) t = pick(random);
    return tokens;
}

struct Comparison {
    double worst_rel_rms = 0.0;
    int argmax_checked = 0;
    int argmax_mismatches = 0;
};

// Per position: rel_rms of the logits, and equal argmax where the reference's top-1/top-2 margin
// is clear.
Comparison compare_logits(const std::vector<std::vector<float>> &engine, const std::vector<std::vector<double>> &reference,
                          double clear_margin) {
    Comparison result;
    for (size_t pos = 0; pos < reference.size(); ++pos) {
        result.worst_rel_rms = std::max(result.worst_rel_rms, bitnet_test::relative_rms(engine[pos], reference[pos]));
        const auto &ref = reference[pos];
        size_t best = std::max_element(ref.begin(), ref.end()) - ref.begin();
        double second = -INFINITY;
        for (size_t i = 0; i < ref.size(); ++i) {
            if (i != best) second = std::max(second, ref[i]);
        }
        if (ref[best] - second <= clear_margin) continue;
        ++result.argmax_checked;
        size_t engine_best = std::max_element(engine[pos].begin(), engine[pos].end()) - engine[pos].begin();
        if (engine_best != best) ++result.argmax_mismatches;
    }
    return result;
}

struct ModelCase {
    const char *format;
    const char *activation;
};

class ForwardVersusReference : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ForwardVersusReference, FloatActivationsMatchTightly) {
    const ModelCase c = GetParam();
    std::string path = bitnet_test::synthetic_model("tiny", c.format, c.activation);
    auto model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    auto reference = bitnet_reference::Model::load(path);
    std::vector<int> tokens = random_tokens(64, bitnet_model_n_vocab(model.get()), 7);

    RunOptions options;
    options.quantize_activations = false;
    auto engine = bitnet_test::engine_logits(model.get(), tokens, options);
    auto expected = bitnet_reference::forward(reference, tokens, {/*quantize_activations=*/false, /*kv_f16=*/false});
    Comparison result = compare_logits(engine, expected, 1e-3);
    std::printf("[ %s/%s float activations ] worst rel_rms %.3g, argmax %d/%d equal\n", c.format, c.activation,
                result.worst_rel_rms, result.argmax_checked - result.argmax_mismatches, result.argmax_checked);
    EXPECT_LE(result.worst_rel_rms, 1e-3);
    EXPECT_EQ(result.argmax_mismatches, 0);
    EXPECT_GT(result.argmax_checked, 32);
}

TEST_P(ForwardVersusReference, Int8ActivationsWithinRoundingNoise) {
    const ModelCase c = GetParam();
    std::string path = bitnet_test::synthetic_model("tiny", c.format, c.activation);
    auto model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    auto reference = bitnet_reference::Model::load(path);
    std::vector<int> tokens = random_tokens(64, bitnet_model_n_vocab(model.get()), 11);

    auto engine = bitnet_test::engine_logits(model.get(), tokens, RunOptions{});
    auto expected = bitnet_reference::forward(reference, tokens, {/*quantize_activations=*/true, /*kv_f16=*/false});
    Comparison result = compare_logits(engine, expected, 1e-3);
    std::printf("[ %s/%s int8 activations ] worst rel_rms %.3g (limit 0.04)\n", c.format, c.activation,
                result.worst_rel_rms);
    EXPECT_LE(result.worst_rel_rms, 0.04);
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, ForwardVersusReference,
                         ::testing::Values(ModelCase{"i2_s", "relu2"}, ModelCase{"tq2_0", "relu2"},
                                           ModelCase{"tq1_0", "relu2"}, ModelCase{"f16", "relu2"},
                                           ModelCase{"f32", "relu2"}, ModelCase{"tq2_0", "silu"},
                                           ModelCase{"f32", "silu"}),
                         [](const auto &info) { return std::string(info.param.format) + "_" + info.param.activation; });

TEST(Forward, OneBatchEqualsTokenByToken) {
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    std::vector<int> tokens = random_tokens(40, bitnet_model_n_vocab(model.get()), 3);
    RunOptions batch_options;
    batch_options.quantize_activations = false;
    RunOptions step_options = batch_options;
    step_options.one_batch = false;
    auto batched = bitnet_test::engine_logits(model.get(), tokens, batch_options);
    auto stepped = bitnet_test::engine_logits(model.get(), tokens, step_options);
    double worst = 0.0;
    for (size_t pos = 0; pos < tokens.size(); ++pos) {
        std::vector<double> step(stepped[pos].begin(), stepped[pos].end());
        worst = std::max(worst, bitnet_test::relative_rms(batched[pos], step));
    }
    std::printf("[ one batch vs token by token ] worst rel_rms %.3g\n", worst);
    EXPECT_LE(worst, 1e-4);
}

TEST(Forward, TwoSequencesInOneBatchEqualEachAlone) {
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    std::vector<int> first = random_tokens(12, n_vocab, 21), second = random_tokens(9, n_vocab, 22);

    RunOptions options;
    auto alone_first = bitnet_test::engine_logits(model.get(), first, options);
    auto alone_second = bitnet_test::engine_logits(model.get(), second, options);

    auto context = bitnet_test::make_context(model.get(), options, 16, 2);
    ASSERT_TRUE(context);
    bitnet_batch *raw = nullptr;
    ASSERT_EQ(bitnet_batch_new(32, &raw), BITNET_OK);
    bitnet_test::BatchPtr batch(raw);
    // Interleave the two sequences' tokens in one batch.
    const int32_t seq0 = 0, seq1 = 1;
    for (size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
        if (i < first.size()) bitnet_batch_add(batch.get(), first[i], static_cast<int32_t>(i), &seq0, 1, true);
        if (i < second.size()) bitnet_batch_add(batch.get(), second[i], static_cast<int32_t>(i), &seq1, 1, true);
    }
    ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
    int32_t entry = 0;
    double worst = 0.0;
    for (size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
        for (int s = 0; s < 2; ++s) {
            const auto &alone = s == 0 ? alone_first : alone_second;
            if (i >= alone.size()) continue;
            std::vector<float> together = bitnet_test::logits_copy(context.get(), entry++, n_vocab);
            std::vector<double> expected(alone[i].begin(), alone[i].end());
            worst = std::max(worst, bitnet_test::relative_rms(together, expected));
        }
    }
    std::printf("[ two sequences in one batch vs alone ] worst rel_rms %.3g\n", worst);
    EXPECT_LE(worst, 1e-5);
}

// Fixture files: "greedy 319 459 ..." line of a *.expected*.txt file.
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

std::vector<int> engine_greedy(const bitnet_model *model, int first, int steps, const RunOptions &options) {
    auto context = bitnet_test::make_context(model, options, static_cast<uint32_t>(steps + 1));
    std::vector<int> out;
    int token = first;
    const int32_t n_vocab = bitnet_model_n_vocab(model);
    for (int pos = 0; pos < steps; ++pos) {
        EXPECT_EQ(bitnet_test::decode_tokens(context.get(), {token}, pos, 0), BITNET_OK) << bitnet_last_error();
        const float *logits = bitnet_get_logits(context.get(), 0);
        if (!logits) break;
        token = static_cast<int>(std::max_element(logits, logits + n_vocab) - logits);
        out.push_back(token);
    }
    return out;
}

struct FixtureCase {
    const char *model;
    const char *expected;
    bool quantize_activations;
    bitnet_kv_type kv_type;
};

class FixtureGreedy : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(FixtureGreedy, MatchesExpectedTokens) {
    const FixtureCase c = GetParam();
    BITNET_REQUIRE_FIXTURE(model_path, std::string("tiny/") + c.model);
    BITNET_REQUIRE_FIXTURE(expected_path, std::string("tiny/") + c.expected);
    std::vector<int> expected = expected_greedy(expected_path);
    ASSERT_EQ(expected.size(), 24u);
    auto model = bitnet_test::load_model(model_path);
    ASSERT_TRUE(model);
    RunOptions options;
    options.quantize_activations = c.quantize_activations;
    options.kv_type = c.kv_type;
    std::vector<int> actual = engine_greedy(model.get(), bitnet_vocab_bos(model.get()) >= 0 ? 1 : 1, 24, options);
    EXPECT_EQ(actual, expected) << c.model << " vs " << c.expected;
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, FixtureGreedy,
    ::testing::Values(
        FixtureCase{"aidreams260K-f32.gguf", "aidreams260K-f32.expected.txt", true, BITNET_KV_F32},
        FixtureCase{"aidreams260K-bitnet-ternary-f32.gguf", "aidreams260K-bitnet-ternary-f32.expected-a8.txt", true,
                    BITNET_KV_F32},
        FixtureCase{"aidreams260K-bitnet-ternary-f32.gguf", "aidreams260K-bitnet-ternary-f32.expected-a8-kvf16.txt",
                    true, BITNET_KV_F16},
        FixtureCase{"aidreams260K-bitnet-ternary-scaled.gguf", "aidreams260K-bitnet-ternary-scaled.expected-a8.txt",
                    true, BITNET_KV_F32},
        FixtureCase{"aidreams260K-bitnet-ternary-scaled.gguf",
                    "aidreams260K-bitnet-ternary-scaled.expected-a8-kvf16.txt", true, BITNET_KV_F16}),
    [](const auto &info) {
        std::string name = std::string(info.param.expected);
        for (char &ch : name) {
            if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
        }
        return name;
    });

}  // namespace
