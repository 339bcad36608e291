// The Vulkan backend against the CPU backend: logits of synthetic models of every format (one
// batch and token by token, float and int8 activations, F32 and F16 KV caches), every lm_head
// type, llama float projections, the fixture models' greedy tokens, several sequences, KV cell
// access, weights uploaded once per model and device (contexts one after another and on several
// threads), bitnet_build_info(), and the documented errors (no loader, no driver, device memory).
//
// Every machine of this project has a CPU Vulkan device (lavapipe), so these tests run for real:
// when the build has Vulkan but no device works they FAIL, unless BITNET_TEST_ALLOW_NO_VULKAN=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "kernels/kernels.h"
#include "runtime/context.h"
#include "support/engine_runner.h"
#include "support/test_support.h"
#include "synth/synth.h"
#include "tensor/quantize.h"
#include "api/build_info.h"
#include "util/half.h"
#include "util/mapped_file.h"

namespace {

using bitnet_test::RunOptions;

// Not from bitnet_build_info(): that lists the devices, and the tests that run in a child process
// without a loader or a driver must not look for devices before they take them away.
bool build_has_vulkan() { return bitnet::built_with_vulkan(); }

// Why an explicit Vulkan context cannot be made here; "" when it can.
const std::string &vulkan_problem() {
    static const std::string problem = []() -> std::string {
        if (!build_has_vulkan()) return "this build has no Vulkan backend";
        auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
        if (!model) return "the test model did not load";
        bitnet_context_params params = bitnet_context_default_params();
        params.n_ctx = 16;
        params.backend = BITNET_BACKEND_VULKAN;
        bitnet_context *context = nullptr;
        if (bitnet_context_new(model.get(), &params, &context) != BITNET_OK) return bitnet_last_error();
        bitnet_context_free(context);
        return "";
    }();
    return problem;
}

// A build without Vulkan skips; a build with Vulkan but no usable device fails, since CI has
// lavapipe, unless BITNET_TEST_ALLOW_NO_VULKAN=1.
#define REQUIRE_VULKAN()                                                                                   \
    do {                                                                                                   \
        const std::string &problem = vulkan_problem();                                                     \
        if (!problem.empty()) {                                                                            \
            const char *allow = std::getenv("BITNET_TEST_ALLOW_NO_VULKAN");                                \
            if (!build_has_vulkan() || (allow && std::strcmp(allow, "1") == 0)) {                          \
                GTEST_SKIP() << "skipped: no usable Vulkan device: " << problem;                          \
            }                                                                                              \
            FAIL() << "no usable Vulkan device: " << problem                                               \
                   << " (install mesa-vulkan-drivers for lavapipe, or set BITNET_TEST_ALLOW_NO_VULKAN=1)"; \
        }                                                                                                  \
    } while (0)

std::vector<int> random_tokens(int n, int n_vocab, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> pick(0, n_vocab - 1);
    std::vector<int> tokens(static_cast<size_t>(n));
    for (int &t : tokens) t = pick(random);
    return tokens;
}

RunOptions on_vulkan(RunOptions options) {
    options.backend = BITNET_BACKEND_VULKAN;
    return options;
}

struct Comparison {
    double worst_rel_rms = 0.0;
    int argmax_checked = 0;
    int argmax_mismatches = 0;
};

// Per position: rel_rms of the Vulkan logits against the CPU's, and equal argmax where the CPU's
// top-1/top-2 margin is clear.
Comparison compare(const std::vector<std::vector<float>> &vulkan, const std::vector<std::vector<float>> &cpu,
                   double clear_margin = 1e-3) {
    Comparison result;
    EXPECT_EQ(vulkan.size(), cpu.size());
    for (size_t pos = 0; pos < std::min(vulkan.size(), cpu.size()); ++pos) {
        std::vector<double> expected(cpu[pos].begin(), cpu[pos].end());
        result.worst_rel_rms = std::max(result.worst_rel_rms, bitnet_test::relative_rms(vulkan[pos], expected));
        const auto &ref = cpu[pos];
        const size_t best = std::max_element(ref.begin(), ref.end()) - ref.begin();
        float second = -INFINITY;
        for (size_t i = 0; i < ref.size(); ++i) {
            if (i != best) second = std::max(second, ref[i]);
        }
        if (ref[best] - second <= clear_margin) continue;
        ++result.argmax_checked;
        if (static_cast<size_t>(std::max_element(vulkan[pos].begin(), vulkan[pos].end()) - vulkan[pos].begin()) != best) {
            ++result.argmax_mismatches;
        }
    }
    return result;
}

// Vulkan against CPU on `tokens`, in one batch and token by token, with the same options.
void expect_matches_cpu(const bitnet_model *model, const std::vector<int> &tokens, RunOptions options, double limit,
                        const std::string &label) {
    for (bool one_batch : {true, false}) {
        options.one_batch = one_batch;
        auto cpu = bitnet_test::engine_logits(model, tokens, options);
        auto vulkan = bitnet_test::engine_logits(model, tokens, on_vulkan(options));
        Comparison result = compare(vulkan, cpu);
        std::printf("[ %s, %s ] vulkan vs cpu: worst rel_rms %.3g (limit %g), argmax %d/%d equal\n", label.c_str(),
                    one_batch ? "one batch" : "token by token", result.worst_rel_rms, limit,
                    result.argmax_checked - result.argmax_mismatches, result.argmax_checked);
        EXPECT_LE(result.worst_rel_rms, limit) << label;
        if (!options.quantize_activations || limit <= 1e-3) {
            EXPECT_EQ(result.argmax_mismatches, 0) << label;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic models of every format
// ---------------------------------------------------------------------------------------------

struct ModelCase {
    const char *format;
    const char *activation;
};

class VulkanVersusCpu : public ::testing::TestWithParam<ModelCase> {};

TEST_P(VulkanVersusCpu, FloatActivationsMatchTightly) {
    REQUIRE_VULKAN();
    const ModelCase c = GetParam();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", c.format, c.activation));
    ASSERT_TRUE(model);
    std::vector<int> tokens = random_tokens(48, bitnet_model_n_vocab(model.get()), 7);
    RunOptions options;
    options.quantize_activations = false;
    expect_matches_cpu(model.get(), tokens, options, 1e-3, std::string(c.format) + "/" + c.activation + " float");
}

TEST_P(VulkanVersusCpu, Int8ActivationsMatch) {
    REQUIRE_VULKAN();
    const ModelCase c = GetParam();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", c.format, c.activation));
    ASSERT_TRUE(model);
    std::vector<int> tokens = random_tokens(48, bitnet_model_n_vocab(model.get()), 11);
    expect_matches_cpu(model.get(), tokens, RunOptions{}, 0.04, std::string(c.format) + "/" + c.activation + " int8");
}

TEST_P(VulkanVersusCpu, F16KvCacheMatches) {
    REQUIRE_VULKAN();
    const ModelCase c = GetParam();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", c.format, c.activation));
    ASSERT_TRUE(model);
    std::vector<int> tokens = random_tokens(32, bitnet_model_n_vocab(model.get()), 13);
    RunOptions options;
    options.kv_type = BITNET_KV_F16;
    expect_matches_cpu(model.get(), tokens, options, 0.04, std::string(c.format) + "/" + c.activation + " int8 kv-f16");
    options.quantize_activations = false;
    expect_matches_cpu(model.get(), tokens, options, 1e-3, std::string(c.format) + "/" + c.activation + " float kv-f16");
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, VulkanVersusCpu,
                         ::testing::Values(ModelCase{"i2_s", "relu2"}, ModelCase{"tq2_0", "relu2"},
                                           ModelCase{"tq1_0", "relu2"}, ModelCase{"f16", "relu2"},
                                           ModelCase{"f32", "relu2"}, ModelCase{"tq2_0", "silu"},
                                           ModelCase{"f32", "silu"}),
                         [](const auto &info) { return std::string(info.param.format) + "_" + info.param.activation; });

// The small preset: 4 layers, GQA 4:1, head_dim 64, rope base 500000.
TEST(VulkanSmallModel, MatchesCpu) {
    REQUIRE_VULKAN();
    for (const char *format : {"i2_s"}) {
        auto model = bitnet_test::load_model(bitnet_test::synthetic_model("small", format));
        ASSERT_TRUE(model);
        std::vector<int> tokens = random_tokens(24, bitnet_model_n_vocab(model.get()), 5);
        RunOptions float_options;
        float_options.quantize_activations = false;
        expect_matches_cpu(model.get(), tokens, float_options, 1e-3, std::string("small ") + format + " float");
        expect_matches_cpu(model.get(), tokens, RunOptions{}, 0.04, std::string("small ") + format + " int8");
    }
}

// Every lm_head (tied embedding) type the loader accepts.
TEST(VulkanLmHead, EveryEmbeddingTypeMatchesCpu) {
    REQUIRE_VULKAN();
    for (bitnet::TensorType type : {bitnet::TensorType::F32, bitnet::TensorType::Q8_0, bitnet::TensorType::Q6_K,
                                    bitnet::TensorType::Q4_0}) {
        bitnet::SynthOptions synth;
        synth.shape = bitnet::synth_preset("tiny");
        synth.format = bitnet::TensorType::TQ2_0;
        synth.embedding_type = type;
        const std::string path = bitnet_test::temp_dir() + "/lm-head-" + bitnet::tensor_type_name(type) + ".gguf";
        bitnet::write_synthetic_model(synth, path);
        auto model = bitnet_test::load_model(path);
        ASSERT_TRUE(model);
        std::vector<int> tokens = random_tokens(12, bitnet_model_n_vocab(model.get()), 17);
        RunOptions options;
        options.quantize_activations = false;
        options.one_batch = true;
        auto cpu = bitnet_test::engine_logits(model.get(), tokens, options);
        auto vulkan = bitnet_test::engine_logits(model.get(), tokens, on_vulkan(options));
        Comparison result = compare(vulkan, cpu);
        std::printf("[ lm_head %s ] worst rel_rms %.3g, argmax %d/%d equal\n", bitnet::tensor_type_name(type),
                    result.worst_rel_rms, result.argmax_checked - result.argmax_mismatches, result.argmax_checked);
        EXPECT_LE(result.worst_rel_rms, 1e-3) << bitnet::tensor_type_name(type);
        EXPECT_EQ(result.argmax_mismatches, 0) << bitnet::tensor_type_name(type);
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture models: llama float projections (F32, and the same weights as F16 and BF16) and
// the bitnet files' greedy tokens
// ---------------------------------------------------------------------------------------------

// A copy of a llama file with its 2-D projection weights stored as `type` (F16 or BF16).
std::string convert_projections(const std::string &source_path, bitnet::TensorType type) {
    const std::string path = bitnet_test::temp_dir() + "/llama-" + bitnet::tensor_type_name(type) + ".gguf";
    auto mapping = bitnet::MappedFile::open(source_path);
    auto file = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    bitnet::gguf::Writer writer;
    for (const auto &entry : file.metadata()) {
        if (entry.key == "general.alignment") continue;
        writer.copy_value(entry.key, file, entry.value);
    }
    for (const auto &tensor : file.tensors()) {
        const bool projection = tensor.name.find("blk.") == 0 && tensor.n_dims == 2;
        const bitnet::TensorType out_type = projection ? type : tensor.type;
        std::vector<uint64_t> dims(tensor.dims, tensor.dims + tensor.n_dims);
        const auto *info = &tensor;
        writer.add_tensor(tensor.name, out_type, dims, [info, out_type](uint8_t *destination, uint64_t n_bytes) {
            if (out_type == info->type) {
                std::memcpy(destination, info->data, n_bytes);
                return;
            }
            std::vector<float> values(info->n_elements);
            bitnet::dequantize_rows(info->type, info->data, info->dims[0], info->rows(), 0, info->rows(), values.data());
            bitnet::quantize_tensor(out_type, values.data(), info->dims[0], info->rows(), destination);
        });
    }
    writer.write(path);
    return path;
}

TEST(VulkanLlama, FloatProjectionsMatchCpu) {
    REQUIRE_VULKAN();
    BITNET_REQUIRE_FIXTURE(path, "tiny/aidreams260K-f32.gguf");
    for (bitnet::TensorType type : {bitnet::TensorType::F32, bitnet::TensorType::F16, bitnet::TensorType::BF16}) {
        const std::string model_path = type == bitnet::TensorType::F32 ? path : convert_projections(path, type);
        auto model = bitnet_test::load_model(model_path);
        ASSERT_TRUE(model);
        std::vector<int> tokens = random_tokens(24, bitnet_model_n_vocab(model.get()), 19);
        expect_matches_cpu(model.get(), tokens, RunOptions{}, 1e-3,
                           std::string("llama ") + bitnet::tensor_type_name(type) + " projections");
    }
}

// Fixture files: the "greedy 319 459 ..." line of a *.expected*.txt file.
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

std::vector<int> greedy(const bitnet_model *model, int first, int steps, const RunOptions &options) {
    auto context = bitnet_test::make_context(model, options, static_cast<uint32_t>(steps + 1));
    std::vector<int> out;
    if (!context) return out;
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
    bitnet_kv_type kv_type;
};

class VulkanFixtureGreedy : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(VulkanFixtureGreedy, MatchesExpectedTokens) {
    REQUIRE_VULKAN();
    const FixtureCase c = GetParam();
    BITNET_REQUIRE_FIXTURE(model_path, std::string("tiny/") + c.model);
    BITNET_REQUIRE_FIXTURE(expected_path, std::string("tiny/") + c.expected);
    std::vector<int> expected = expected_greedy(expected_path);
    ASSERT_EQ(expected.size(), 24u);
    auto model = bitnet_test::load_model(model_path);
    ASSERT_TRUE(model);
    RunOptions options = on_vulkan(RunOptions{});
    options.kv_type = c.kv_type;
    EXPECT_EQ(greedy(model.get(), 1, 24, options), expected) << c.model << " vs " << c.expected;
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, VulkanFixtureGreedy,
    ::testing::Values(
        FixtureCase{"aidreams260K-f32.gguf", "aidreams260K-f32.expected.txt", BITNET_KV_F32},
        FixtureCase{"aidreams260K-bitnet-ternary-f32.gguf", "aidreams260K-bitnet-ternary-f32.expected-a8.txt",
                    BITNET_KV_F32},
        FixtureCase{"aidreams260K-bitnet-ternary-f32.gguf", "aidreams260K-bitnet-ternary-f32.expected-a8-kvf16.txt",
                    BITNET_KV_F16},
        FixtureCase{"aidreams260K-bitnet-ternary-scaled.gguf", "aidreams260K-bitnet-ternary-scaled.expected-a8.txt",
                    BITNET_KV_F32},
        FixtureCase{"aidreams260K-bitnet-ternary-scaled.gguf",
                    "aidreams260K-bitnet-ternary-scaled.expected-a8-kvf16.txt", BITNET_KV_F16}),
    [](const auto &info) {
        std::string name = std::string(info.param.expected);
        for (char &ch : name) {
            if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
        }
        return name;
    });

// ---------------------------------------------------------------------------------------------
// Batches, sequences, outputs
// ---------------------------------------------------------------------------------------------

TEST(VulkanBatches, TwoSequencesInOneBatchMatchCpu) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    std::vector<int> first = random_tokens(12, n_vocab, 21), second = random_tokens(9, n_vocab, 22);
    std::vector<std::vector<float>> results[2];
    for (int backend = 0; backend < 2; ++backend) {
        RunOptions options;
        options.quantize_activations = false;
        if (backend == 1) options = on_vulkan(options);
        auto context = bitnet_test::make_context(model.get(), options, 16, 2);
        ASSERT_TRUE(context);
        bitnet_batch *raw = nullptr;
        ASSERT_EQ(bitnet_batch_new(32, &raw), BITNET_OK);
        bitnet_test::BatchPtr batch(raw);
        const int32_t seq0 = 0, seq1 = 1;
        for (size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
            if (i < first.size()) bitnet_batch_add(batch.get(), first[i], static_cast<int32_t>(i), &seq0, 1, true);
            if (i < second.size()) bitnet_batch_add(batch.get(), second[i], static_cast<int32_t>(i), &seq1, 1, true);
        }
        ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
        for (int32_t entry = 0; entry < bitnet_batch_size(batch.get()); ++entry) {
            results[backend].push_back(bitnet_test::logits_copy(context.get(), entry, n_vocab));
        }
        // One more token of sequence 1 only: sequence 0's cells must stay invisible to it.
        bitnet_batch_clear(batch.get());
        bitnet_batch_add(batch.get(), first[0], static_cast<int32_t>(second.size()), &seq1, 1, true);
        ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
        results[backend].push_back(bitnet_test::logits_copy(context.get(), 0, n_vocab));
    }
    Comparison result = compare(results[1], results[0]);
    std::printf("[ two sequences ] worst rel_rms %.3g\n", result.worst_rel_rms);
    EXPECT_LE(result.worst_rel_rms, 1e-3);
    EXPECT_EQ(result.argmax_mismatches, 0);
}

TEST(VulkanBatches, EmbeddingsAndSomeLogitsMatchCpu) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "tq2_0"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get()), n_embd = bitnet_model_n_embd(model.get());
    std::vector<int> tokens = random_tokens(10, n_vocab, 23);
    std::vector<std::vector<float>> logits[2], hidden[2];
    for (int backend = 0; backend < 2; ++backend) {
        bitnet_context_params params = bitnet_context_default_params();
        params.n_ctx = 16;
        params.n_outputs_max = 3;
        params.embeddings = true;
        params.n_threads = 2;
        params.backend = backend == 0 ? BITNET_BACKEND_CPU : BITNET_BACKEND_VULKAN;
        bitnet_context *raw = nullptr;
        ASSERT_EQ(bitnet_context_new(model.get(), &params, &raw), BITNET_OK) << bitnet_last_error();
        bitnet_test::ContextPtr context(raw);
        bitnet_batch *raw_batch = nullptr;
        ASSERT_EQ(bitnet_batch_new(16, &raw_batch), BITNET_OK);
        bitnet_test::BatchPtr batch(raw_batch);
        const int32_t seq = 0;
        for (size_t i = 0; i < tokens.size(); ++i) {
            bitnet_batch_add(batch.get(), tokens[i], static_cast<int32_t>(i), &seq, 1, i == 2 || i == 5 || i == 9);
        }
        ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
        for (int32_t entry : {2, 5, 9}) {
            logits[backend].push_back(bitnet_test::logits_copy(context.get(), entry, n_vocab));
            const float *h = bitnet_get_embeddings(context.get(), entry);
            ASSERT_NE(h, nullptr) << bitnet_last_error();
            hidden[backend].emplace_back(h, h + n_embd);
        }
        EXPECT_EQ(bitnet_get_logits(context.get(), 3), nullptr);
    }
    EXPECT_LE(compare(logits[1], logits[0]).worst_rel_rms, 0.04);
    EXPECT_LE(compare(hidden[1], hidden[0], 1e30).worst_rel_rms, 0.04);
}

TEST(VulkanBatches, AbortLeavesTheContextUnchanged) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    std::vector<int> tokens = random_tokens(6, n_vocab, 29);
    auto expected = bitnet_test::engine_logits(model.get(), tokens, on_vulkan(RunOptions{}));

    bool abort_now = false;
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 16;
    params.n_outputs_max = 8;
    params.kv_type = BITNET_KV_F32;  // as engine_logits uses
    params.backend = BITNET_BACKEND_VULKAN;
    params.abort_callback = [](void *flag) { return *static_cast<bool *>(flag); };
    params.abort_user_data = &abort_now;
    bitnet_context *raw = nullptr;
    ASSERT_EQ(bitnet_context_new(model.get(), &params, &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ContextPtr context(raw);
    ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {tokens[0], tokens[1], tokens[2]}, 0, 0), BITNET_OK);
    abort_now = true;
    EXPECT_EQ(bitnet_test::decode_tokens(context.get(), {tokens[3], tokens[4]}, 3, 0), BITNET_ERR_ABORTED);
    abort_now = false;
    ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {tokens[3], tokens[4], tokens[5]}, 3, 0), BITNET_OK)
        << bitnet_last_error();
    for (int32_t i = 0; i < 3; ++i) {
        std::vector<float> actual = bitnet_test::logits_copy(context.get(), i, n_vocab);
        std::vector<double> want(expected[3 + i].begin(), expected[3 + i].end());
        EXPECT_LE(bitnet_test::relative_rms(actual, want), 1e-6) << "position " << 3 + i;
    }
}

// ---------------------------------------------------------------------------------------------
// KV cells on the device (state files, sequence shifts), through the engine's Backend interface
// ---------------------------------------------------------------------------------------------

std::vector<float> cells_as_floats(const std::vector<uint8_t> &bytes, bitnet_kv_type type) {
    std::vector<float> out;
    if (type == BITNET_KV_F32) {
        out.resize(bytes.size() / 4);
        std::memcpy(out.data(), bytes.data(), bytes.size());
    } else {
        for (size_t i = 0; i + 1 < bytes.size(); i += 2) out.push_back(bitnet::half_to_float(bytes[i] | (bytes[i + 1] << 8)));
    }
    return out;
}

TEST(VulkanKvCells, ReadWriteAndRotateMatchCpu) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    std::vector<int> tokens = random_tokens(10, n_vocab, 31);
    for (bitnet_kv_type kv_type : {BITNET_KV_F32, BITNET_KV_F16}) {
        RunOptions options;
        options.quantize_activations = false;
        options.kv_type = kv_type;
        auto cpu = bitnet_test::make_context(model.get(), options, 16);
        auto vulkan = bitnet_test::make_context(model.get(), on_vulkan(options), 16);
        ASSERT_TRUE(cpu && vulkan);
        ASSERT_EQ(bitnet_test::decode_tokens(cpu.get(), tokens, 0, 0), BITNET_OK);
        ASSERT_EQ(bitnet_test::decode_tokens(vulkan.get(), tokens, 0, 0), BITNET_OK);
        bitnet::Backend &cpu_backend = *cpu->backend;
        bitnet::Backend &vulkan_backend = *vulkan->backend;
        ASSERT_EQ(cpu_backend.kv_cell_bytes(), vulkan_backend.kv_cell_bytes());
        const size_t cell_bytes = cpu_backend.kv_cell_bytes();
        const std::vector<int32_t> cells{7, 0, 3, 9, 1};
        const int32_t n = static_cast<int32_t>(cells.size());
        auto read = [&](bitnet::Backend &backend) {
            std::vector<uint8_t> bytes(cell_bytes * n);
            backend.read_kv_cells(cells.data(), n, bytes.data());
            return cells_as_floats(bytes, kv_type);
        };
        auto relative = [](const std::vector<float> &actual, const std::vector<float> &expected) {
            return bitnet_test::relative_rms(actual, std::vector<double>(expected.begin(), expected.end()));
        };
        // F16 cells: a last-bit difference of a float can round to the neighbouring half.
        EXPECT_LE(relative(read(vulkan_backend), read(cpu_backend)), kv_type == BITNET_KV_F32 ? 1e-5 : 1e-3);

        // Writing the CPU's cells into the device and reading them back is exact.
        std::vector<uint8_t> cpu_bytes(cell_bytes * n), round_trip(cell_bytes * n);
        cpu_backend.read_kv_cells(cells.data(), n, cpu_bytes.data());
        vulkan_backend.write_kv_cells(cells.data(), n, cpu_bytes.data());
        vulkan_backend.read_kv_cells(cells.data(), n, round_trip.data());
        EXPECT_EQ(round_trip, cpu_bytes);

        const std::vector<int32_t> deltas{3, 0, -2, 5, 1};
        cpu_backend.rotate_keys(cells.data(), deltas.data(), n);
        vulkan_backend.rotate_keys(cells.data(), deltas.data(), n);
        cpu_backend.read_kv_cells(cells.data(), n, cpu_bytes.data());
        vulkan_backend.read_kv_cells(cells.data(), n, round_trip.data());
        EXPECT_EQ(round_trip, cpu_bytes) << "rotated keys (same input, same cos/sin, rotation in float as on the CPU)";

        // The rotated cache is what the next decode reads.
        ASSERT_EQ(bitnet_test::decode_tokens(cpu.get(), {tokens[0]}, 10, 0), BITNET_OK);
        ASSERT_EQ(bitnet_test::decode_tokens(vulkan.get(), {tokens[0]}, 10, 0), BITNET_OK);
        std::vector<float> expected = bitnet_test::logits_copy(cpu.get(), 0, n_vocab);
        EXPECT_LE(bitnet_test::relative_rms(bitnet_test::logits_copy(vulkan.get(), 0, n_vocab),
                                            std::vector<double>(expected.begin(), expected.end())),
                  1e-3);
    }
}

// Through the public API: a context shift (seq_rm + seq_add: the Vulkan backend rotates the cached
// keys on the device, rope_shift.comp, with the CPU backend's cos/sin and arithmetic), and
// a state saved from a Vulkan context restored into a Vulkan and into a CPU context.
TEST(VulkanKvCells, ContextShiftAndStateMatchCpu) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "tq2_0"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    std::vector<int> tokens = random_tokens(16, n_vocab, 43);
    RunOptions options;
    options.quantize_activations = false;
    auto cpu = bitnet_test::make_context(model.get(), options, 24);
    auto vulkan = bitnet_test::make_context(model.get(), on_vulkan(options), 24);
    ASSERT_TRUE(cpu && vulkan);
    for (bitnet_context *c : {cpu.get(), vulkan.get()}) {
        ASSERT_EQ(bitnet_test::decode_tokens(c, tokens, 0, 0, /*all_logits=*/false), BITNET_OK);
        ASSERT_EQ(bitnet_seq_rm(c, 0, 4, 10), BITNET_OK) << bitnet_last_error();
        ASSERT_EQ(bitnet_seq_add(c, 0, 10, -1, -6), BITNET_OK) << bitnet_last_error();
        ASSERT_EQ(bitnet_test::decode_tokens(c, {tokens[3]}, 10, 0), BITNET_OK) << bitnet_last_error();
    }
    auto relative = [](const std::vector<float> &actual, const std::vector<float> &expected) {
        return bitnet_test::relative_rms(actual, std::vector<double>(expected.begin(), expected.end()));
    };
    EXPECT_LE(relative(bitnet_test::logits_copy(vulkan.get(), 0, n_vocab), bitnet_test::logits_copy(cpu.get(), 0, n_vocab)),
              1e-3);

    std::vector<uint8_t> state(bitnet_state_size(vulkan.get()));
    size_t written = 0;
    ASSERT_EQ(bitnet_state_save(vulkan.get(), state.data(), state.size(), &written), BITNET_OK) << bitnet_last_error();
    state.resize(written);
    auto restored_vulkan = bitnet_test::make_context(model.get(), on_vulkan(options), 24);
    auto restored_cpu = bitnet_test::make_context(model.get(), options, 24);
    ASSERT_TRUE(restored_vulkan && restored_cpu);
    ASSERT_EQ(bitnet_state_load(restored_vulkan.get(), state.data(), state.size()), BITNET_OK) << bitnet_last_error();
    ASSERT_EQ(bitnet_state_load(restored_cpu.get(), state.data(), state.size()), BITNET_OK) << bitnet_last_error();
    for (bitnet_context *c : {vulkan.get(), restored_vulkan.get(), restored_cpu.get()}) {
        ASSERT_EQ(bitnet_test::decode_tokens(c, {tokens[4]}, 11, 0), BITNET_OK) << bitnet_last_error();
    }
    const std::vector<float> expected = bitnet_test::logits_copy(vulkan.get(), 0, n_vocab);
    // The restored cells may sit at other indices (a state load packs them), so sums run in another order.
    EXPECT_LE(relative(bitnet_test::logits_copy(restored_vulkan.get(), 0, n_vocab), expected), 1e-5) << "restored on Vulkan";
    EXPECT_LE(relative(bitnet_test::logits_copy(restored_cpu.get(), 0, n_vocab), expected), 1e-3) << "restored on CPU";
}

// ---------------------------------------------------------------------------------------------
// Sharing: weights uploaded once per (model, device), contexts on several threads
// ---------------------------------------------------------------------------------------------

TEST(VulkanSharing, ContextsOnSeveralThreadsAgree) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "tq2_0"));
    ASSERT_TRUE(model);
    std::vector<int> tokens = random_tokens(16, bitnet_model_n_vocab(model.get()), 37);
    // One context held across the others, so that they also run at the same time as another context.
    auto holder = bitnet_test::make_context(model.get(), on_vulkan(RunOptions{}), 8);
    ASSERT_TRUE(holder);
    auto expected = bitnet_test::engine_logits(model.get(), tokens, on_vulkan(RunOptions{}));
    std::vector<std::vector<std::vector<float>>> results(3);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < results.size(); ++i) {
        threads.emplace_back([&, i] {
            RunOptions options = on_vulkan(RunOptions{});
            options.one_batch = i % 2 == 0;
            results[i] = bitnet_test::engine_logits(model.get(), tokens, options);
        });
    }
    for (std::thread &thread : threads) thread.join();
    for (const auto &result : results) {
        ASSERT_EQ(result.size(), expected.size());
        EXPECT_LE(compare(result, expected).worst_rel_rms, 1e-5);
    }
}

// Counts the "vulkan: uploaded the weights of ..." lines the library logs, one per upload.
class UploadCounter {
public:
    UploadCounter() { bitnet_set_log_callback(&UploadCounter::log, BITNET_LOG_INFO, this); }
    ~UploadCounter() { bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr); }
    int count() {
        std::lock_guard<std::mutex> lock(mutex_);
        return count_;
    }

private:
    static void log(bitnet_log_level, const char *message, void *user_data) {
        auto *self = static_cast<UploadCounter *>(user_data);
        if (std::strstr(message, "vulkan: uploaded the weights of") == nullptr) return;
        std::lock_guard<std::mutex> lock(self->mutex_);
        ++self->count_;
    }
    std::mutex mutex_;
    int count_ = 0;
};

// One Vulkan context of `model` that decodes a token, then is freed.
void use_once(const bitnet_model *model, int token) {
    auto context = bitnet_test::make_context(model, on_vulkan(RunOptions{}), 4);
    ASSERT_TRUE(context);
    EXPECT_EQ(bitnet_test::decode_tokens(context.get(), {token}, 0, 0), BITNET_OK) << bitnet_last_error();
}

// The weights live as long as the model: contexts made one after another (none alive in between)
// or all at once on several threads upload them once per model and device; freeing the model
// frees them, so a model loaded again uploads its own.
TEST(VulkanSharing, WeightsAreUploadedOncePerModelAndDevice) {
    REQUIRE_VULKAN();
    const std::string path = bitnet_test::synthetic_model("tiny", "tq2_0");
    UploadCounter uploads;
    auto first = bitnet_test::load_model(path);
    ASSERT_TRUE(first);
    for (int i = 0; i < 3; ++i) use_once(first.get(), i);
    EXPECT_EQ(uploads.count(), 1) << "three contexts of one model, one after another";

    auto second = bitnet_test::load_model(path);
    ASSERT_TRUE(second);
    constexpr int kThreads = 6;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();  // every thread creates its context at the same moment
            use_once(second.get(), i);
        });
    }
    for (std::thread &thread : threads) thread.join();
    EXPECT_EQ(uploads.count(), 2) << "one more for the second model, however many threads create contexts";
    use_once(second.get(), 7);
    use_once(first.get(), 8);
    EXPECT_EQ(uploads.count(), 2) << "both models keep their weights with no context alive";

    first.reset();
    auto third = bitnet_test::load_model(path);
    ASSERT_TRUE(third);
    use_once(third.get(), 9);
    EXPECT_EQ(uploads.count(), 3) << "a new model uploads its own weights";
}

// Counts the library's "uploaded the weights" (INFO) and "freed the weights" (DEBUG) lines.
class WeightLifetimeCounter {
public:
    WeightLifetimeCounter() { bitnet_set_log_callback(&WeightLifetimeCounter::log, BITNET_LOG_DEBUG, this); }
    ~WeightLifetimeCounter() { bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr); }
    int uploads() {
        std::lock_guard<std::mutex> lock(mutex_);
        return uploads_;
    }
    int frees() {
        std::lock_guard<std::mutex> lock(mutex_);
        return frees_;
    }

private:
    static void log(bitnet_log_level, const char *message, void *user_data) {
        auto *self = static_cast<WeightLifetimeCounter *>(user_data);
        std::lock_guard<std::mutex> lock(self->mutex_);
        if (std::strstr(message, "vulkan: uploaded the weights of")) ++self->uploads_;
        if (std::strstr(message, "vulkan: freed the weights of")) ++self->frees_;
    }
    std::mutex mutex_;
    int uploads_ = 0;
    int frees_ = 0;
};

// The registry of uploaded weights lives on the Vulkan side, keyed by each model's load_id: a model
// loaded and freed again and again (often at the very address of the previous one) uploads its
// own weights each time, and freeing it frees them, so nothing piles up on the device.
TEST(VulkanSharing, WeightsAreFreedWithTheirModelAcrossLoadFreeLoops) {
    REQUIRE_VULKAN();
    const std::string path = bitnet_test::synthetic_model("tiny", "tq2_0");
    WeightLifetimeCounter counter;
    for (int i = 0; i < 4; ++i) {
        auto model = bitnet_test::load_model(path);
        ASSERT_TRUE(model);
        use_once(model.get(), i);
        use_once(model.get(), i + 1);
        EXPECT_EQ(counter.uploads(), i + 1) << "one upload per loaded model";
        EXPECT_EQ(counter.frees(), i) << "kept while the model lives, with no context alive";
        model.reset();
        EXPECT_EQ(counter.frees(), i + 1) << "freed with the model";
    }
}

// Freeing a model frees its weights on the device (and the device, when nothing else holds it): a
// model loaded afterwards uploads again and computes the same logits.
TEST(VulkanSharing, ModelFreedAfterItsContextsThenAnotherModelWorks) {
    REQUIRE_VULKAN();
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    std::vector<int> tokens = {1, 2, 3};
    std::vector<std::vector<float>> expected;
    {
        auto model = bitnet_test::load_model(path);
        ASSERT_TRUE(model);
        expected = bitnet_test::engine_logits(model.get(), tokens, on_vulkan(RunOptions{}));
    }
    auto model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    auto again = bitnet_test::engine_logits(model.get(), tokens, on_vulkan(RunOptions{}));
    ASSERT_EQ(again.size(), expected.size());
    EXPECT_EQ(again, expected);
}

// ---------------------------------------------------------------------------------------------
// bitnet_build_info(): the CPU kernel variant in use, and the Vulkan devices
// ---------------------------------------------------------------------------------------------

TEST(VulkanBuildInfo, NamesTheCpuKernelsInUseAndTheDevices) {
    const std::string info = bitnet_build_info();
    std::printf("[ build info ] %s\n", info.c_str());
    EXPECT_NE(info.find(std::string("(using ") + bitnet::cpu_kernels().name + ")"), std::string::npos) << info;
    EXPECT_EQ(info.find('\n'), std::string::npos) << "one line";
    EXPECT_EQ(bitnet_build_info(), bitnet_build_info()) << "cached: the same string every time";
    if (!build_has_vulkan()) {
        EXPECT_EQ(info.find("vulkan"), std::string::npos) << info;
        return;
    }
    EXPECT_NE(info.find("backends cpu,vulkan; vulkan devices: "), std::string::npos) << info;
    REQUIRE_VULKAN();
    // The device an explicit Vulkan context gets (device 0) is listed first, by name and kind.
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    auto context = bitnet_test::make_context(model.get(), on_vulkan(RunOptions{}), 4);
    ASSERT_TRUE(context);
    const std::string backend = bitnet_context_backend_name(context.get());  // "vulkan NAME (device 0, KIND)"
    const std::string name = backend.substr(7, backend.rfind(" (device 0, ") - 7);
    const std::string kind = backend.substr(backend.rfind(", ") + 2, backend.size() - backend.rfind(", ") - 3);
    EXPECT_NE(info.find("vulkan devices: 0 = " + name + " (" + kind + ")"), std::string::npos) << info << " / " << backend;
}

// In a fresh process, from several threads at once: every caller gets the same text, made once.
TEST(VulkanBuildInfo, IsTheSameStringOnEveryThread) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            constexpr int kThreads = 8;
            std::latch start(kThreads);
            std::vector<const char *> seen(kThreads, nullptr);
            std::vector<std::thread> threads;
            for (int i = 0; i < kThreads; ++i) {
                threads.emplace_back([&, i] {
                    start.arrive_and_wait();
                    seen[i] = bitnet_build_info();
                });
            }
            for (std::thread &thread : threads) thread.join();
            for (const char *text : seen) {
                if (text != seen[0] || std::strstr(text, "(using ") == nullptr) std::_Exit(3);
            }
            std::fprintf(stderr, "build info on %d threads: %s\n", kThreads, seen[0]);
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "build info on 8 threads: bitnet ");
}

// ---------------------------------------------------------------------------------------------
// Choosing the backend, and the documented errors
// ---------------------------------------------------------------------------------------------

TEST(VulkanErrors, MissingDeviceIndexIsUnsupported) {
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 16;
    params.backend = BITNET_BACKEND_VULKAN;
    params.device_index = 99;
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_ERR_UNSUPPORTED);
    EXPECT_EQ(context, nullptr);
    const std::string message = bitnet_last_error();
    if (build_has_vulkan() && vulkan_problem().empty()) {
        EXPECT_NE(message.find("device_index 99 does not exist"), std::string::npos) << message;
    } else {
        EXPECT_NE(message.find("Vulkan"), std::string::npos) << message;
    }
    // AUTO with a device index that does not exist is the CPU.
    params.backend = BITNET_BACKEND_AUTO;
    ASSERT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(std::string(bitnet_context_backend_name(context)).rfind("cpu", 0), 0u) << bitnet_context_backend_name(context);
    bitnet_context_free(context);
}

TEST(VulkanErrors, AutoNeverPicksACpuDevice) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 16;
    params.backend = BITNET_BACKEND_VULKAN;
    bitnet_context *context = nullptr;
    ASSERT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_OK) << bitnet_last_error();
    const std::string vulkan_name = bitnet_context_backend_name(context);
    bitnet_context_free(context);
    EXPECT_EQ(vulkan_name.rfind("vulkan ", 0), 0u) << vulkan_name;
    // Devices are numbered GPUs first: a CPU device 0 (lavapipe) means there is no GPU.
    const bool device0_is_cpu = vulkan_name.find("(device 0, cpu)") != std::string::npos;

    params.backend = BITNET_BACKEND_AUTO;
    ASSERT_EQ(bitnet_context_new(model.get(), &params, &context), BITNET_OK) << bitnet_last_error();
    const std::string auto_name = bitnet_context_backend_name(context);
    bitnet_context_free(context);
    std::printf("[ backends ] vulkan: %s; auto: %s\n", vulkan_name.c_str(), auto_name.c_str());
    EXPECT_EQ(auto_name.rfind(device0_is_cpu ? "cpu" : "vulkan", 0), 0u) << auto_name;
}

// Run in a child process whose environment broke Vulkan: loads `path`, asks for a Vulkan context
// (it must fail as UNSUPPORTED with `reason` in the message, which is printed after `label`) and
// then an AUTO one (it must run on the CPU). Exits 0 when both hold; another code names the step.
[[noreturn]] void exit_after_vulkan_refusal(const std::string &path, const char *label, const char *reason) {
    bitnet_model *model = nullptr;
    if (bitnet_model_load_file(path.c_str(), nullptr, &model) != BITNET_OK) std::_Exit(10);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 16;
    params.backend = BITNET_BACKEND_VULKAN;
    bitnet_context *context = nullptr;
    const bitnet_status status = bitnet_context_new(model, &params, &context);
    const std::string message = bitnet_last_error();
    std::fprintf(stderr, "%s: %s\n", label, message.c_str());
    if (status != BITNET_ERR_UNSUPPORTED || message.find(reason) == std::string::npos) std::_Exit(11);
    params.backend = BITNET_BACKEND_AUTO;
    if (bitnet_context_new(model, &params, &context) != BITNET_OK) std::_Exit(12);
    const bool cpu = std::string(bitnet_context_backend_name(context)).rfind("cpu", 0) == 0;
    bitnet_context_free(context);
    bitnet_model_free(model);
    std::_Exit(cpu ? 0 : 13);
}

// In a fresh process whose Vulkan loader finds no driver: VULKAN is UNSUPPORTED naming why, AUTO
// is the CPU.
TEST(VulkanErrors, NoDriverIsUnsupportedForVulkanAndCpuForAuto) {
    if (!build_has_vulkan()) GTEST_SKIP() << "skipped: this build has no Vulkan backend";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    EXPECT_EXIT(
        {
            setenv("VK_ICD_FILENAMES", "/nonexistent/bitnet-no-driver.json", 1);
            setenv("VK_DRIVER_FILES", "/nonexistent/bitnet-no-driver.json", 1);
            exit_after_vulkan_refusal(path, "vulkan without a driver", "no Vulkan device");
        },
        ::testing::ExitedWithCode(0), "vulkan without a driver: .*no Vulkan device");
}

// A context whose KV cache the device cannot hold: OUT_OF_MEMORY naming the buffer, no context,
// and the device still works. On lavapipe (buffers of at most 128 MiB) n_ctx 2^20 cannot fit; a GPU
// with larger buffers may hold it, and then creating the context succeeds.
TEST(VulkanErrors, ContextTooLargeForTheDeviceIsOutOfMemory) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 1u << 20;  // the largest n_ctx a context accepts: 1 GiB of F32 KV cache per layer here
    params.n_batch = 16;
    params.kv_type = BITNET_KV_F32;
    params.backend = BITNET_BACKEND_VULKAN;
    bitnet_context *context = nullptr;
    const bitnet_status status = bitnet_context_new(model.get(), &params, &context);
    const std::string message = bitnet_last_error();
    std::printf("[ out of memory ] n_ctx %u: %s: %s\n", params.n_ctx, bitnet_status_string(status), message.c_str());
    bitnet_context_free(context);
    auto probe = bitnet_test::make_context(model.get(), on_vulkan(RunOptions{}), 4);
    ASSERT_TRUE(probe);
    const bool cpu_device = std::string(bitnet_context_backend_name(probe.get())).find(", cpu)") != std::string::npos;
    if (cpu_device || status != BITNET_OK) {
        EXPECT_EQ(status, BITNET_ERR_OUT_OF_MEMORY) << message;
        EXPECT_EQ(context, nullptr);
        EXPECT_NE(message.find("KV cache"), std::string::npos) << message;
        EXPECT_NE(message.find("MiB"), std::string::npos) << message;
    }
    // The device is still usable after the failure.
    EXPECT_EQ(bitnet_test::decode_tokens(probe.get(), {1, 2}, 0, 0), BITNET_OK) << bitnet_last_error();
}

// Device memory running out part way through creating a context (simulated on any device with
// BITNET_VULKAN_MEMORY_LIMIT_MIB, in a fresh process): OUT_OF_MEMORY with a message, everything
// the failed context allocated given back, the model's weights kept, and a model freed gives back
// its weights (a second copy would not fit under the limit).
TEST(VulkanErrors, DeviceOutOfMemoryFailsCleanly) {
    REQUIRE_VULKAN();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string path = bitnet_test::synthetic_model("small", "i2_s");
    EXPECT_EXIT(
        {
            // The small model's weights take 3.2 MiB, and as much again for a moment in the upload's
            // staging buffer; a context of n_ctx 64 under 2 MiB, one of n_ctx 2^15 16 MiB of KV
            // cache per layer. 8 MiB hold one upload, then the weights and a small context; not a
            // second upload while the first model's weights are still there.
            setenv("BITNET_VULKAN_MEMORY_LIMIT_MIB", "8", 1);
            UploadCounter uploads;
            bitnet_model *model = nullptr;
            if (bitnet_model_load_file(path.c_str(), nullptr, &model) != BITNET_OK) std::_Exit(2);
            bitnet_context_params params = bitnet_context_default_params();
            params.backend = BITNET_BACKEND_VULKAN;
            params.n_batch = 16;
            params.n_ctx = 1u << 15;
            bitnet_context *context = nullptr;
            const bitnet_status status = bitnet_context_new(model, &params, &context);
            std::fprintf(stderr, "limited: %s: %s\n", bitnet_status_string(status), bitnet_last_error());
            if (status != BITNET_ERR_OUT_OF_MEMORY || context != nullptr) std::_Exit(3);
            if (!std::strstr(bitnet_last_error(), "BITNET_VULKAN_MEMORY_LIMIT_MIB")) std::_Exit(4);
            // What the failed context took is back: a smaller one fits, and the weights were kept.
            params.n_ctx = 64;
            for (int i = 0; i < 2; ++i) {
                if (bitnet_context_new(model, &params, &context) != BITNET_OK) {
                    std::fprintf(stderr, "small context %d: %s\n", i, bitnet_last_error());
                    std::_Exit(5);
                }
                bitnet_context_free(context);
            }
            if (uploads.count() != 1) std::_Exit(6);
            // Freed with the model: another model's weights fit in their place.
            bitnet_model_free(model);
            if (bitnet_model_load_file(path.c_str(), nullptr, &model) != BITNET_OK) std::_Exit(7);
            if (bitnet_context_new(model, &params, &context) != BITNET_OK) {
                std::fprintf(stderr, "after the first model was freed: %s\n", bitnet_last_error());
                std::_Exit(8);
            }
            bitnet_context_free(context);
            bitnet_model_free(model);
            std::_Exit(uploads.count() == 2 ? 0 : 9);
        },
        ::testing::ExitedWithCode(0), "limited: out of memory: bitnet_context_new: vulkan: device 0 .*has no memory left");
}

// In a fresh process without any Vulkan loader (BITNET_VULKAN_LOADER naming a file that does not
// exist, see vulkan_loader.h): VULKAN is UNSUPPORTED naming the loader, AUTO is the CPU, and
// bitnet_build_info() says there is no device, without failing or hanging.
TEST(VulkanErrors, NoLoaderIsUnsupportedForVulkanAndCpuForAuto) {
    if (!build_has_vulkan()) GTEST_SKIP() << "skipped: this build has no Vulkan backend";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    EXPECT_EXIT(
        {
            setenv("BITNET_VULKAN_LOADER", "/nonexistent/bitnet-no-loader/libvulkan.so.1", 1);
            const std::string info = bitnet_build_info();
            std::fprintf(stderr, "build info without a loader: %s\n", info.c_str());
            if (info.find("vulkan devices: none (") == std::string::npos) std::_Exit(2);
            exit_after_vulkan_refusal(path, "vulkan without a loader", "no Vulkan loader");
        },
        ::testing::ExitedWithCode(0),
        "build info without a loader: .*vulkan devices: none \\(.*bitnet-no-loader.*\n"
        "vulkan without a loader: .*no Vulkan loader .*could not be opened");
}

// ---------------------------------------------------------------------------------------------
// Throughput on this machine's device (lavapipe here: slow, but it shows the path works)
// ---------------------------------------------------------------------------------------------

TEST(VulkanThroughput, ReportsPrefillAndDecodeSpeed) {
    REQUIRE_VULKAN();
    auto model = bitnet_test::load_model(bitnet_test::synthetic_model("small", "i2_s"));
    ASSERT_TRUE(model);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    const int prompt = 64, generate = 32;
    std::vector<int> tokens = random_tokens(prompt, n_vocab, 41);
    // Vulkan first: OpenMP workers of a CPU run keep spinning for a while and would slow lavapipe.
    for (bitnet_backend_type backend : {BITNET_BACKEND_VULKAN, BITNET_BACKEND_CPU}) {
        using clock = std::chrono::steady_clock;
        bitnet_context_params params = bitnet_context_default_params();
        params.n_ctx = prompt + generate;
        params.n_batch = prompt;
        params.n_threads = 2;
        params.backend = backend;
        const auto created = clock::now();
        bitnet_context *raw = nullptr;
        ASSERT_EQ(bitnet_context_new(model.get(), &params, &raw), BITNET_OK) << bitnet_last_error();
        bitnet_test::ContextPtr context(raw);
        const auto prefill = clock::now();
        ASSERT_EQ(bitnet_test::decode_tokens(context.get(), tokens, 0, 0, /*all_logits=*/false), BITNET_OK);
        const auto decode = clock::now();
        const float *logits = bitnet_get_logits(context.get(), -1);
        ASSERT_NE(logits, nullptr);
        int token = static_cast<int>(std::max_element(logits, logits + n_vocab) - logits);
        for (int i = 0; i < generate; ++i) {
            ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {token}, prompt + i, 0), BITNET_OK);
            logits = bitnet_get_logits(context.get(), 0);
            token = static_cast<int>(std::max_element(logits, logits + n_vocab) - logits);
        }
        const auto done = clock::now();
        auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
        std::printf("[ throughput ] %s: created in %.2f s, pp%d %.1f tok/s, tg%d %.1f tok/s\n",
                    bitnet_context_backend_name(context.get()), seconds(created, prefill), prompt,
                    prompt / seconds(prefill, decode), generate, generate / seconds(decode, done));
    }
}

}  // namespace
