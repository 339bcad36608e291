// Model-level validation through the C API (bitnet_model_load_memory / _file): every rule of the
// loader (model/model.cpp, model/model_weights.cpp) on a file that breaks only that rule, the
// status and a message naming the problem; tied and untied lm_heads; the queries of a loaded
// model; and a hostile sweep (truncations and single-byte corruptions) through the whole loader
// and one decode, which must end in an error status or a working model, never a crash (this
// suite runs under ASan and UBSan too).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "model/weight_packing.h"
#include "support/engine_runner.h"
#include "support/model_builder.h"
#include "support/test_support.h"
#include "tokenizer/vocabulary.h"
#include "util/error.h"

namespace {

using bitnet::TensorType;
using bitnet_test::ModelSpec;

struct LoadResult {
    bitnet_status status = BITNET_OK;
    std::string message;
    bitnet_test::ModelPtr model;
};

// Load from a heap copy of exactly `bytes.size()` bytes (malloc alignment, >= 8), so that any read
// past the end is caught by ASan. `image` receives the copy, which must outlive the model.
LoadResult load_memory(const std::vector<uint8_t> &bytes, std::vector<uint8_t> *image) {
    *image = bytes;
    LoadResult result;
    bitnet_model *model = nullptr;
    result.status = bitnet_model_load_memory(image->data(), image->size(), nullptr, &model);
    result.message = result.status == BITNET_OK ? "" : bitnet_last_error();
    result.model.reset(model);
    return result;
}

LoadResult load_file(const std::string &path) {
    LoadResult result;
    bitnet_model *model = nullptr;
    result.status = bitnet_model_load_file(path.c_str(), nullptr, &model);
    result.message = result.status == BITNET_OK ? "" : bitnet_last_error();
    result.model.reset(model);
    return result;
}

// The spec must fail to load, from memory and from a file alike, with `status` and a message
// containing every one of `needles`.
void expect_rejected(const ModelSpec &spec, bitnet_status status, const std::vector<std::string> &needles,
                     const std::string &file_name) {
    const std::vector<uint8_t> bytes = bitnet_test::build_model(spec);
    std::vector<uint8_t> image;
    LoadResult from_memory = load_memory(bytes, &image);
    LoadResult from_file = load_file(bitnet_test::write_temp(file_name, bytes));
    for (const LoadResult *result : {&from_memory, &from_file}) {
        const char *how = result == &from_memory ? "load_memory" : "load_file";
        EXPECT_EQ(result->status, status) << how << ": " << bitnet_status_string(result->status) << ": "
                                          << result->message;
        EXPECT_FALSE(result->model) << how;
        for (const std::string &needle : needles) {
            EXPECT_NE(result->message.find(needle), std::string::npos)
                << how << ": the message should name '" << needle << "': " << result->message;
        }
    }
    // The same reason after the name of the function that failed.
    EXPECT_EQ(from_memory.message.rfind("bitnet_model_load_memory: ", 0), 0u) << from_memory.message;
    EXPECT_EQ(from_file.message.rfind("bitnet_model_load_file: ", 0), 0u) << from_file.message;
    EXPECT_EQ(from_memory.message.substr(from_memory.message.find(": ") + 2),
              from_file.message.substr(from_file.message.find(": ") + 2));
}

TEST(ModelLoad, TheBaseSpecLoadsWithEveryQueryRight) {
    for (bool tied : {true, false}) {
        ModelSpec spec;
        spec.tied = tied;
        spec.name = tied ? "tiny tied" : "tiny untied";
        const std::vector<uint8_t> bytes = bitnet_test::build_model(spec);
        std::vector<uint8_t> image;
        LoadResult result = load_memory(bytes, &image);
        ASSERT_EQ(result.status, BITNET_OK) << result.message;
        const bitnet_model *model = result.model.get();
        EXPECT_STREQ(bitnet_model_architecture(model), "bitnet");
        EXPECT_EQ(std::string(bitnet_model_name(model)), spec.name);
        EXPECT_EQ(bitnet_model_n_ctx_train(model), spec.n_ctx);
        EXPECT_EQ(bitnet_model_n_layer(model), spec.n_layer);
        EXPECT_EQ(bitnet_model_n_embd(model), spec.n_embd);
        EXPECT_EQ(bitnet_model_n_head(model), spec.n_head);
        EXPECT_EQ(bitnet_model_n_head_kv(model), spec.n_head_kv);
        EXPECT_EQ(bitnet_model_n_ff(model), spec.n_ff);
        EXPECT_EQ(bitnet_model_n_vocab(model), spec.n_vocab);
        // By hand: embedding, output norm, (lm_head), and per layer 4 norms and 7 projections.
        const uint64_t e = spec.n_embd, f = spec.n_ff, v = spec.n_vocab, kv = e / spec.n_head * spec.n_head_kv;
        const uint64_t per_layer = 3 * e + f + 2 * e * e + 2 * e * kv + 3 * e * f;
        const uint64_t expected = v * e + e + (tied ? 0 : v * e) + spec.n_layer * per_layer;
        EXPECT_EQ(bitnet_model_n_params(model), expected);
        EXPECT_EQ(bitnet_model_n_params(model), bitnet_test::spec_n_params(spec));
        EXPECT_EQ(bitnet_model_n_tensors(model), static_cast<int64_t>(2 + (tied ? 0 : 1) + 11 * spec.n_layer));
    }
}

TEST(ModelLoad, MissingNameIsEmpty) {
    ModelSpec spec;
    spec.name = "";
    std::vector<uint8_t> image;
    LoadResult result = load_memory(bitnet_test::build_model(spec), &image);
    ASSERT_EQ(result.status, BITNET_OK) << result.message;
    EXPECT_STREQ(bitnet_model_name(result.model.get()), "");
}

TEST(ModelLoad, MissingRequiredTensorIsNamed) {
    for (const char *name : {"token_embd.weight", "output_norm.weight", "blk.1.ffn_up.weight",
                             "blk.0.attn_norm.weight", "blk.1.attn_sub_norm.weight", "blk.0.ffn_sub_norm.weight"}) {
        SCOPED_TRACE(name);
        ModelSpec spec;
        spec.vocab_size_key = true;
        spec.omit_tensors = {name};
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {name, "missing"}, "missing-tensor.gguf");
    }
    // Without <arch>.vocab_size the embedding is also where the vocabulary size comes from.
    ModelSpec spec;
    spec.omit_tensors = {"token_embd.weight"};
    expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"token_embd.weight", "vocab_size", "vocabulary size"},
                    "missing-embedding.gguf");
}

TEST(ModelLoad, TensorWithTheWrongShapeIsNamedWithBothShapes) {
    {
        ModelSpec spec;  // attn_k must be [n_embd, n_embd_kv] = [64, 32]
        spec.reshape["blk.0.attn_k.weight"] = {64, 64};
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.0.attn_k.weight", "[64, 64]", "expected [64, 32]"},
                        "bad-shape-k.gguf");
    }
    {
        ModelSpec spec;  // transposed down projection
        spec.reshape["blk.1.ffn_down.weight"] = {64, 96};
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.1.ffn_down.weight", "[64, 96]", "expected [96, 64]"},
                        "bad-shape-down.gguf");
    }
    {
        ModelSpec spec;  // a norm of the wrong length, and a 2-D norm
        spec.reshape["blk.0.ffn_norm.weight"] = {32};
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.0.ffn_norm.weight", "[32]", "expected [64]"},
                        "bad-shape-norm.gguf");
        spec.reshape["blk.0.ffn_norm.weight"] = {64, 1};
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.0.ffn_norm.weight", "[64, 1]", "expected [64]"},
                        "bad-shape-norm2.gguf");
    }
    {
        ModelSpec spec;  // an untied lm_head with the wrong vocabulary
        spec.tied = false;
        spec.reshape["output.weight"] = {64, 47};
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"output.weight", "[64, 47]", "expected [64, 48]"},
                        "bad-shape-output.gguf");
    }
}

TEST(ModelLoad, TensorOfAnUnsupportedTypeForItsRoleIsNamed) {
    {
        ModelSpec spec;  // norms must be F32
        spec.retype["blk.1.ffn_norm.weight"] = TensorType::F16;
        expect_rejected(spec, BITNET_ERR_UNSUPPORTED, {"blk.1.ffn_norm.weight", "f16", "norm"}, "f16-norm.gguf");
    }
    {
        ModelSpec spec;
        spec.retype["output_norm.weight"] = TensorType::BF16;
        expect_rejected(spec, BITNET_ERR_UNSUPPORTED, {"output_norm.weight", "bf16", "norm"}, "bf16-norm.gguf");
    }
    {
        ModelSpec spec;  // ternary codes are no embedding
        spec.embedding_type = TensorType::TQ2_0;
        spec.n_embd = 256;
        expect_rejected(spec, BITNET_ERR_UNSUPPORTED, {"token_embd.weight", "tq2_0", "embedding"},
                        "tq2-embedding.gguf");
    }
    // A Q8_0 projection (neither float nor ternary) is no longer refused: quantized non-ternary
    // projections run as float projections (test_fallback_models.cpp checks their logits).
}

class RequiredKey : public ::testing::TestWithParam<const char *> {};

TEST_P(RequiredKey, MissingKeyIsNamed) {
    ModelSpec spec;
    const std::string key = std::string("bitnet.") + GetParam();
    spec.omit_keys = {key};
    expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {key, "missing"}, "missing-key.gguf");
}

INSTANTIATE_TEST_SUITE_P(Hyperparameters, RequiredKey,
                         ::testing::Values("embedding_length", "block_count", "feed_forward_length",
                                           "attention.head_count"),
                         [](const auto &info) {
                             std::string name = info.param;
                             for (char &c : name) {
                                 if (c == '.') c = '_';
                             }
                             return name;
                         });

TEST(ModelLoad, OutOfRangeHyperparameterIsNamed) {
    ModelSpec spec;
    spec.n_head = 5;  // 64 is not a multiple of 5
    spec.n_head_kv = 5;
    expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"head_count", "64", "5"}, "bad-heads.gguf");
}

TEST(ModelLoad, UnsupportedArchitectureIsNamed) {
    ModelSpec spec;
    spec.string_keys["general.architecture"] = "mamba";
    expect_rejected(spec, BITNET_ERR_UNSUPPORTED, {"architecture", "'mamba'"}, "mamba.gguf");

    ModelSpec missing;
    missing.omit_keys = {"general.architecture"};
    expect_rejected(missing, BITNET_ERR_INVALID_MODEL, {"general.architecture", "missing"}, "no-arch.gguf");
}

TEST(ModelLoad, UnsupportedHiddenActivationIsNamed) {
    ModelSpec spec;
    spec.activation = "gelu";
    expect_rejected(spec, BITNET_ERR_UNSUPPORTED, {"bitnet.hidden_activation", "'gelu'"}, "gelu.gguf");
}

TEST(ModelLoad, ScaleTensorMustBeOneF32Value) {
    {
        ModelSpec spec;
        spec.extra_tensors.push_back({"blk.0.attn_q.scale", TensorType::F32, {2}, {1.0f, 1.0f}});
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.0.attn_q.scale", "[2]"}, "scale-shape.gguf");
    }
    {
        ModelSpec spec;
        spec.extra_tensors.push_back({"blk.1.ffn_down.scale", TensorType::F16, {1}, {1.0f}});
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.1.ffn_down.scale", "f16"}, "scale-type.gguf");
    }
    {
        ModelSpec spec;
        spec.extra_tensors.push_back({"blk.1.ffn_down.scale", TensorType::F32, {1}, {INFINITY}});
        expect_rejected(spec, BITNET_ERR_INVALID_MODEL, {"blk.1.ffn_down.scale", "finite"}, "scale-inf.gguf");
    }
    {
        ModelSpec spec;  // the right shape loads
        spec.extra_tensors.push_back({"blk.0.attn_q.scale", TensorType::F32, {1}, {0.5f}});
        std::vector<uint8_t> image;
        LoadResult result = load_memory(bitnet_test::build_model(spec), &image);
        EXPECT_EQ(result.status, BITNET_OK) << result.message;
        // Folded into the weight's one scale, times the type's own per-tensor scale (if any).
        std::vector<uint8_t> plain_image;
        LoadResult plain = load_memory(bitnet_test::build_model(ModelSpec{}), &plain_image);
        ASSERT_EQ(plain.status, BITNET_OK) << plain.message;
        EXPECT_EQ(result.model->weights.layers[0].wq.scale, plain.model->weights.layers[0].wq.scale * 0.5f);
        EXPECT_EQ(result.model->weights.layers[1].wq.scale, plain.model->weights.layers[1].wq.scale);
    }
}

// The loader reads f32 values through float pointers: a file whose general.alignment lets an f32
// tensor start at an odd address must be refused, not read misaligned.
TEST(ModelLoad, TensorDataMisalignedByTheFilesAlignmentIsRefused) {
    ModelSpec spec;
    spec.alignment = 1;  // tensors packed back to back, the first one right after the tensor table
    std::vector<uint8_t> bytes;
    for (std::string name = "x"; name.size() < 8; name += "x") {
        spec.name = name;  // the name's length moves the data section
        bytes = bitnet_test::build_model(spec);
        if (bitnet::gguf::File::parse(bytes.data(), bytes.size()).data_offset() % 4 != 0) break;
    }
    ASSERT_NE(bitnet::gguf::File::parse(bytes.data(), bytes.size()).data_offset() % 4, 0u);
    std::vector<uint8_t> image;
    LoadResult result = load_memory(bytes, &image);
    EXPECT_EQ(result.status, BITNET_ERR_UNSUPPORTED) << result.message;
    EXPECT_NE(result.message.find("token_embd.weight"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("not aligned to 4 bytes"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("general.alignment is 1"), std::string::npos) << result.message;
}

TEST(ModelLoad, TiedLmHeadLoadsAndUsesTheEmbedding) {
    ModelSpec spec;
    spec.tied = true;
    std::vector<uint8_t> image;
    LoadResult result = load_memory(bitnet_test::build_model(spec), &image);
    ASSERT_EQ(result.status, BITNET_OK) << result.message;
    const bitnet::ModelWeights &w = result.model->weights;
    EXPECT_EQ(w.output.data, w.token_embd.data);
    EXPECT_EQ(w.output.rows, static_cast<uint64_t>(spec.n_vocab));

    bitnet_test::RunOptions options;
    auto logits = bitnet_test::engine_logits(result.model.get(), {1, 2, 3}, options);
    ASSERT_EQ(logits.size(), 3u);
    for (const auto &row : logits) {
        ASSERT_EQ(row.size(), static_cast<size_t>(spec.n_vocab));
        for (float v : row) ASSERT_TRUE(std::isfinite(v));
    }

    spec.tied = false;
    LoadResult untied = load_memory(bitnet_test::build_model(spec), &image);
    ASSERT_EQ(untied.status, BITNET_OK) << untied.message;
    EXPECT_NE(untied.model->weights.output.data, untied.model->weights.token_embd.data);
}

// A requantization of the lm_head whose work fails inside the parallel region must come out as an
// Error, not terminate the process (parallel_for bodies must not throw).
TEST(ModelLoad, FailureInsideTheParallelRequantizationIsAnError) {
    bitnet_model model;
    std::vector<uint8_t> storage(4096, 0);
    bitnet::Weight &head = model.weights.output;
    head.type = TensorType::Q8_0;
    head.cols = 64;
    head.stored_cols = 48;  // not whole Q8_0 blocks: dequantize_rows throws in every share
    head.rows = 4 * 256;    // four chunks, so that the work is split across threads
    head.data = storage.data();
    try {
        bitnet::requantize_output(model, TensorType::F16);
        ADD_FAILURE() << "requantize_output should have failed";
    } catch (const bitnet::Error &error) {
        EXPECT_EQ(error.status(), BITNET_ERR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(error.what()).find("dequantize_rows"), std::string::npos) << error.what();
    }
    EXPECT_EQ(model.owned_bytes, 0u);
}

TEST(ModelLoad, RequantizedLmHeadStillComputes) {
    ModelSpec spec;
    spec.tied = false;
    const std::vector<uint8_t> bytes = bitnet_test::build_model(spec);
    bitnet_model_params params = bitnet_model_default_params();
    params.head_type = BITNET_HEAD_Q8_0;
    bitnet_model *raw = nullptr;
    ASSERT_EQ(bitnet_model_load_memory(bytes.data(), bytes.size(), &params, &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ModelPtr model(raw);
    EXPECT_EQ(model->weights.output.type, TensorType::Q8_0);
    EXPECT_GT(model->owned_bytes, 0u);
    auto logits = bitnet_test::engine_logits(model.get(), {1, 2}, bitnet_test::RunOptions{});
    ASSERT_EQ(logits.size(), 2u);
    for (float v : logits[1]) ASSERT_TRUE(std::isfinite(v));
}

// ---------------------------------------------------------------------------------------------
// Hostile sweep through the model loader

// A small valid model touching most of the loader: an alignment key, float projections that are
// packed at load (some ternarized with absmean), an untied lm_head and a .scale tensor.
ModelSpec sweep_spec() {
    ModelSpec spec;
    spec.n_vocab = 16;
    spec.n_embd = 32;
    spec.n_layer = 1;
    spec.n_head = 2;
    spec.n_head_kv = 1;
    spec.n_ff = 32;
    spec.n_ctx = 16;
    spec.projection_type = TensorType::F16;
    spec.ternary = false;
    spec.tied = false;
    spec.alignment = 64;
    spec.name = "sweep";
    spec.extra_tensors.push_back({"blk.0.attn_output.scale", TensorType::F32, {1}, {0.75f}});
    return spec;
}

enum class SweepOutcome { kRejected, kLoadedContextRefused, kDecodeFailed, kDecoded };

// Load from an exact-size heap copy; when it loads, make a context and decode two tokens.
SweepOutcome load_and_decode(const std::vector<uint8_t> &bytes, std::string *why) {
    std::vector<uint8_t> image;
    LoadResult result = load_memory(bytes, &image);
    if (result.status != BITNET_OK) {
        if (result.message.empty()) *why = "an error status without a message";
        if (result.status == BITNET_ERR_INTERNAL) *why = "internal error: " + result.message;
        return SweepOutcome::kRejected;
    }
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 4;
    params.n_batch = 2;
    params.n_threads = 1;
    params.kv_type = BITNET_KV_F32;
    params.backend = BITNET_BACKEND_CPU;
    bitnet_context *raw = nullptr;
    bitnet_status status = bitnet_context_new(result.model.get(), &params, &raw);
    if (status != BITNET_OK) {
        if (status == BITNET_ERR_INTERNAL) *why = std::string("internal error: ") + bitnet_last_error();
        return SweepOutcome::kLoadedContextRefused;
    }
    bitnet_test::ContextPtr context(raw);
    const int32_t n_vocab = bitnet_model_n_vocab(result.model.get());
    status = bitnet_test::decode_tokens(context.get(), {0, std::min(1, n_vocab - 1)}, 0, 0, /*all_logits=*/false);
    if (status != BITNET_OK) {
        if (status == BITNET_ERR_INTERNAL) *why = std::string("internal error: ") + bitnet_last_error();
        return SweepOutcome::kDecodeFailed;
    }
    const float *logits = bitnet_get_logits(context.get(), 1);
    if (!logits) {
        *why = "decode succeeded without logits";
        return SweepOutcome::kDecoded;
    }
    volatile float sink = 0.0f;
    for (int32_t i = 0; i < n_vocab; ++i) sink = sink + logits[i];
    (void)sink;
    return SweepOutcome::kDecoded;
}

TEST(ModelLoadHostile, TheSweepModelIsValid) {
    const std::vector<uint8_t> bytes = bitnet_test::build_model(sweep_spec());
    std::string why;
    EXPECT_EQ(load_and_decode(bytes, &why), SweepOutcome::kDecoded) << why;
    EXPECT_TRUE(why.empty()) << why;
}

// Header offset of the sweep model's data section.
uint64_t data_offset_of(const std::vector<uint8_t> &bytes) {
    return bitnet::gguf::File::parse(bytes.data(), bytes.size()).data_offset();
}

// Every length through the header, metadata, tensor table and the first tensor; a dense sample of
// the tensor data (where every cut fails the same bounds check); every length of the last 80 bytes.
// (Each refused load throws: the 18k lengths take 0.25 s on the toolchain unwinder, 4.5 s when
// libunwind was linked and took over every throw in the process.)
TEST(ModelLoadHostile, TruncationsAreAnErrorOrAWorkingModel) {
    const std::vector<uint8_t> bytes = bitnet_test::build_model(sweep_spec());
    const uint64_t data_offset = data_offset_of(bytes);
    int counts[4] = {}, tried = 0;
    const auto start = std::chrono::steady_clock::now();
    for (size_t length = 0; length < bytes.size();) {
        std::string why;
        SweepOutcome outcome = load_and_decode(std::vector<uint8_t>(bytes.begin(), bytes.begin() + length), &why);
        ++counts[static_cast<int>(outcome)];
        ++tried;
        EXPECT_TRUE(why.empty()) << "truncated to " << length << " bytes: " << why;
        // Only a cut into the final padding can leave a complete file.
        if (outcome != SweepOutcome::kRejected) {
            EXPECT_GE(length, bytes.size() - 64) << "truncated to " << length << " bytes still loaded";
        }
        const bool dense = length < data_offset + 256 || length + 80 >= bytes.size();
        length += dense ? 1 : 29;
    }
    std::printf("[ %d of %zu truncations ] rejected %d, loaded %d, decoded %d (%.1f s)\n", tried, bytes.size(), counts[0],
                counts[1] + counts[2] + counts[3], counts[3],
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_GT(counts[0], 0);
}

TEST(ModelLoadHostile, SingleByteCorruptionsAreAnErrorOrAWorkingModel) {
    const std::vector<uint8_t> bytes = bitnet_test::build_model(sweep_spec());
    const uint64_t data_offset = data_offset_of(bytes);

    int counts[4] = {};
    const auto start = std::chrono::steady_clock::now();
    auto corrupt = [&](size_t at, uint8_t value) {
        if (bytes[at] == value) return;
        std::vector<uint8_t> corrupted = bytes;
        corrupted[at] = value;
        std::string why;
        SweepOutcome outcome = load_and_decode(corrupted, &why);
        ++counts[static_cast<int>(outcome)];
        EXPECT_TRUE(why.empty()) << "byte " << at << " set to " << int(value) << ": " << why;
    };
    // Every byte of the header, metadata and tensor table, with values that break counts, lengths,
    // type ids, offsets and dimensions in different ways.
    for (size_t at = 0; at < data_offset; ++at) {
        const uint8_t b = bytes[at];
        for (uint8_t value : {uint8_t(0x00), uint8_t(0xff), uint8_t(b ^ 0x01)}) corrupt(at, value);
    }
    // A sample of the tensor data: non-finite and extreme values must not crash the packing or the
    // forward pass either.
    for (size_t at = data_offset; at < bytes.size(); at += 151) {
        corrupt(at, 0xff);
        corrupt(at, 0x7f);
    }
    std::printf("[ corruptions of %llu header bytes ] rejected %d, context refused %d, decode failed %d, decoded %d "
                "(%.1f s)\n",
                static_cast<unsigned long long>(data_offset), counts[0], counts[1], counts[2], counts[3],
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[3], 0);
}

}  // namespace
