// Models whose projections are stored in the types llama.cpp's quantizer falls back to: the real
// case is a `bitnet` file quantized to TQ2_0 or TQ1_0 whose ffn_down rows (n_ff 8640 for
// bitnet_b1_58-3B, here 640) are not a multiple of 256, so ffn_down is written as Q4_0 or similar
// (issue 13). Such projections run as float projections through the row-dequantizing path; the
// logits must match the double-precision reference (tests/reference/, its own decoders) and the
// Vulkan backend must agree with the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/model_builder.h"
#include "support/test_support.h"
#include "tensor/tensor_type.h"

namespace {

using bitnet::TensorType;

struct FallbackCase {
    TensorType ternary;   // the other projections: TQ2_0 or TQ1_0
    TensorType fallback;  // ffn_down (32-element blocks) or attn_output and ffn_up (256-element blocks)
    TensorType embedding = TensorType::F16;
};

std::string case_name(const FallbackCase &c) {
    std::string name = std::string(bitnet::tensor_type_name(c.ternary)) + "_" + bitnet::tensor_type_name(c.fallback);
    if (c.embedding != TensorType::F16) name += std::string("_embd_") + bitnet::tensor_type_name(c.embedding);
    return name;
}

// n_embd 256 fits the ternary types; n_ff 640 does not, so ffn_down (640 columns) always takes a
// 32-element type: the case's own, or Q4_0 (llama.cpp's choice) when the case's type has 256-element
// blocks, which then go on attn_output and ffn_up instead.
bitnet_test::ModelSpec fallback_spec(const FallbackCase &c) {
    bitnet_test::ModelSpec spec;
    spec.architecture = "bitnet";
    spec.name = "fallback-" + case_name(c);
    spec.n_embd = 256;
    spec.n_ff = 640;
    spec.n_layer = 2;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_vocab = 64;
    spec.projection_type = c.ternary;
    spec.embedding_type = c.embedding;
    const bool small_blocks = bitnet::tensor_type_traits(c.fallback).block_elements == 32;
    for (int layer = 0; layer < spec.n_layer; ++layer) {
        const std::string p = "blk." + std::to_string(layer) + ".";
        spec.retype[p + "ffn_down.weight"] = small_blocks ? c.fallback : TensorType::Q4_0;
        if (!small_blocks) {
            spec.retype[p + "attn_output.weight"] = c.fallback;
            spec.retype[p + "ffn_up.weight"] = c.fallback;
        }
    }
    return spec;
}

std::vector<int> random_tokens(int n, int n_vocab, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> pick(0, n_vocab - 1);
    std::vector<int> tokens(static_cast<size_t>(n));
    for (int &t : tokens) t = pick(random);
    return tokens;
}

double worst_rel_rms(const std::vector<std::vector<float>> &engine, const std::vector<std::vector<double>> &expected) {
    double worst = 0.0;
    for (size_t pos = 0; pos < expected.size(); ++pos) {
        worst = std::max(worst, bitnet_test::relative_rms(engine[pos], expected[pos]));
    }
    return worst;
}

class FallbackModel : public ::testing::TestWithParam<FallbackCase> {
protected:
    void SetUp() override {
        path_ = bitnet_test::write_temp("fallback-" + case_name(GetParam()) + ".gguf",
                                        bitnet_test::build_model(fallback_spec(GetParam())));
    }
    std::string path_;
};

TEST_P(FallbackModel, LoadsAndMatchesTheReferenceWithFloatActivations) {
    auto model = bitnet_test::load_model(path_);
    ASSERT_TRUE(model);
    const auto reference = bitnet_reference::Model::load(path_);
    const std::vector<int> tokens = random_tokens(24, bitnet_model_n_vocab(model.get()), 5);
    bitnet_test::RunOptions options;
    options.quantize_activations = false;
    const auto engine = bitnet_test::engine_logits(model.get(), tokens, options);
    const auto expected = bitnet_reference::forward(reference, tokens, {/*quantize_activations=*/false, false});
    const double worst = worst_rel_rms(engine, expected);
    std::printf("[ %s float activations ] worst rel_rms %.3g (limit 1e-5)\n", case_name(GetParam()).c_str(), worst);
    EXPECT_LE(worst, 1e-5);
}

// With int8 activations the ternary projections quantize their inputs; the fallback ones stay float
// (the reference does the same: only BitLinear weights quantize their input).
TEST_P(FallbackModel, MatchesTheReferenceWithInt8Activations) {
    auto model = bitnet_test::load_model(path_);
    ASSERT_TRUE(model);
    const auto reference = bitnet_reference::Model::load(path_);
    const std::vector<int> tokens = random_tokens(24, bitnet_model_n_vocab(model.get()), 6);
    const auto engine = bitnet_test::engine_logits(model.get(), tokens, bitnet_test::RunOptions{});
    const auto expected = bitnet_reference::forward(reference, tokens, {/*quantize_activations=*/true, false});
    const double worst = worst_rel_rms(engine, expected);
    std::printf("[ %s int8 activations ] worst rel_rms %.3g (limit 0.04)\n", case_name(GetParam()).c_str(), worst);
    EXPECT_LE(worst, 0.04);
}

// The Vulkan backend uploads the fallback types dequantized to f32 (vulkan_weights.h) and runs the
// float matmul shader: its logits equal the CPU's within float summation noise.
TEST_P(FallbackModel, VulkanMatchesTheCpu) {
    auto model = bitnet_test::load_model(path_);
    ASSERT_TRUE(model);
    bitnet_context_params params = bitnet_context_default_params();
    params.backend = BITNET_BACKEND_VULKAN;
    params.n_ctx = 32;
    bitnet_context *probe = nullptr;
    if (bitnet_context_new(model.get(), &params, &probe) != BITNET_OK) {
        GTEST_SKIP() << "skipped: no Vulkan context here: " << bitnet_last_error();
    }
    bitnet_context_free(probe);
    const std::vector<int> tokens = random_tokens(24, bitnet_model_n_vocab(model.get()), 7);
    for (bool quantize : {false, true}) {
        bitnet_test::RunOptions cpu;
        cpu.quantize_activations = quantize;
        bitnet_test::RunOptions vulkan = cpu;
        vulkan.backend = BITNET_BACKEND_VULKAN;
        const auto on_cpu = bitnet_test::engine_logits(model.get(), tokens, cpu);
        const auto on_vulkan = bitnet_test::engine_logits(model.get(), tokens, vulkan);
        std::vector<std::vector<double>> cpu_double;
        for (const auto &row : on_cpu) cpu_double.emplace_back(row.begin(), row.end());
        const double worst = worst_rel_rms(on_vulkan, cpu_double);
        std::printf("[ %s vulkan vs cpu, %s activations ] worst rel_rms %.3g\n", case_name(GetParam()).c_str(),
                    quantize ? "int8" : "float", worst);
        // Float activations: both sum the same products in other orders. Int8: an activation code
        // may round the other way on one side, so int8 takes test_vulkan's bound for its forward
        // comparisons (0.04). 1e-3 held until the CPU's float projections (these fallback types)
        // began to sum in double (issue 19: the same bits on every ISA) while Vulkan sums in float:
        // tq1_0 with Q5_K then measured 1.34e-3 from one flipped code, every other case 3e-7 to
        // 5e-7; the float-activation comparison stays at 1e-5 (5.6e-7 measured for that model).
        EXPECT_LE(worst, quantize ? 0.04 : 1e-5);
    }
}

INSTANTIATE_TEST_SUITE_P(
    EveryFallbackType, FallbackModel,
    ::testing::Values(FallbackCase{TensorType::TQ2_0, TensorType::Q4_0}, FallbackCase{TensorType::TQ1_0, TensorType::Q4_0},
                      FallbackCase{TensorType::TQ2_0, TensorType::Q5_0}, FallbackCase{TensorType::TQ1_0, TensorType::Q5_0},
                      FallbackCase{TensorType::TQ2_0, TensorType::Q8_0}, FallbackCase{TensorType::TQ1_0, TensorType::Q8_0},
                      FallbackCase{TensorType::TQ2_0, TensorType::Q6_K}, FallbackCase{TensorType::TQ1_0, TensorType::Q6_K},
                      FallbackCase{TensorType::TQ2_0, TensorType::Q4_1}, FallbackCase{TensorType::TQ2_0, TensorType::Q5_1},
                      FallbackCase{TensorType::TQ2_0, TensorType::IQ4_NL}, FallbackCase{TensorType::TQ2_0, TensorType::Q2_K},
                      FallbackCase{TensorType::TQ2_0, TensorType::Q3_K}, FallbackCase{TensorType::TQ2_0, TensorType::Q4_K},
                      FallbackCase{TensorType::TQ1_0, TensorType::Q5_K},
                      // A fallback-typed embedding, tied: the lm_head goes through the same path.
                      FallbackCase{TensorType::TQ2_0, TensorType::Q4_0, TensorType::Q4_K}),
    [](const auto &info) { return case_name(info.param); });

}  // namespace
