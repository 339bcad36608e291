// Synthetic models: the official 2B-4T file layout, the same function in every format, seeds,
// embedding types, copied vocabularies, and (label `heavy`) the full 2b4t shape.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "gguf/gguf.h"
#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/official_layout.h"
#include "support/test_support.h"
#include "synth/synth.h"
#include "util/mapped_file.h"

namespace {

std::vector<uint8_t> synthesize(const std::string &preset, bitnet::TensorType format, uint64_t seed = 1,
                                bitnet::TensorType embedding = bitnet::TensorType::F16, const std::string &vocab = "") {
    bitnet::SynthOptions options;
    options.shape = bitnet::synth_preset(preset);
    options.format = format;
    options.seed = seed;
    options.embedding_type = embedding;
    options.vocab_path = vocab;
    return bitnet::synthesize_model(options);
}

TEST(Synth, I2sFileHasTheOfficialLayout) {
    std::vector<uint8_t> bytes = synthesize("tiny", bitnet::TensorType::I2_S);
    auto file = bitnet::gguf::File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(file.architecture(), "bitnet-b1.58");
    bitnet_test::expect_official_layout(file, 2);
}

TEST(Synth, SameSeedSameBytesOtherSeedOtherWeights) {
    EXPECT_EQ(synthesize("tiny", bitnet::TensorType::TQ2_0, 5), synthesize("tiny", bitnet::TensorType::TQ2_0, 5));
    EXPECT_NE(synthesize("tiny", bitnet::TensorType::TQ2_0, 5), synthesize("tiny", bitnet::TensorType::TQ2_0, 6));
}

TEST(Synth, EveryFormatStoresTheSameWeights) {
    // Decoded with the reference's own decoders, every projection is identical across formats.
    const char *formats[] = {"i2_s", "tq2_0", "tq1_0", "f16", "f32"};
    std::vector<bitnet_reference::Model> models;
    for (const char *format : formats) models.push_back(bitnet_reference::Model::load(bitnet_test::synthetic_model("tiny", format)));
    const auto &base = models[0];
    for (size_t m = 1; m < models.size(); ++m) {
        EXPECT_EQ(models[m].token_embedding(), base.token_embedding()) << formats[m];
        for (int layer = 0; layer < base.hparams().n_layer; ++layer) {
            for (int p = 0; p < bitnet_reference::kProjectionCount; ++p) {
                const auto &a = base.layer(layer).projections[p];
                const auto &b = models[m].layer(layer).projections[p];
                ASSERT_EQ(a.rows, b.rows);
                ASSERT_EQ(a.cols, b.cols);
                int differences = 0;
                for (int r = 0; r < a.rows; ++r) {
                    for (int c = 0; c < a.cols; ++c) differences += a.effective(r, c) != b.effective(r, c);
                }
                EXPECT_EQ(differences, 0) << formats[m] << " layer " << layer << " projection " << p;
            }
        }
    }
}

TEST(Synth, QuantizedEmbeddingTypesLoadAndRun) {
    for (bitnet::TensorType type : {bitnet::TensorType::Q8_0, bitnet::TensorType::Q6_K, bitnet::TensorType::Q4_0}) {
        std::vector<uint8_t> bytes = synthesize("tiny", bitnet::TensorType::I2_S, 1, type);
        bitnet_model *model = nullptr;
        ASSERT_EQ(bitnet_model_load_memory(bytes.data(), bytes.size(), nullptr, &model), BITNET_OK) << bitnet_last_error();
        bitnet_test::ModelPtr owner(model);
        bitnet_test::RunOptions options;
        auto logits = bitnet_test::engine_logits(model, {1, 2, 3}, options);
        ASSERT_EQ(logits.size(), 3u);
        for (float v : logits[2]) ASSERT_TRUE(std::isfinite(v));
    }
}

TEST(Synth, VocabularyIsCopiedFromAVocabFile) {
    BITNET_REQUIRE_FIXTURE(vocab, "vocab/ggml-vocab-llama3-bpe.gguf");
    std::vector<uint8_t> bytes = synthesize("tiny", bitnet::TensorType::I2_S, 1, bitnet::TensorType::F16, vocab);
    auto file = bitnet::gguf::File::parse(bytes.data(), bytes.size());
    bitnet_test::expect_official_layout(file, 2);
    EXPECT_EQ(file.get_uint("bitnet-b1.58.vocab_size"), 128256u);
    EXPECT_EQ(file.find("tokenizer.ggml.merges")->value.count, 280147u);
    EXPECT_EQ(file.find_tensor("token_embd.weight")->dims[1], 128256u);
}

}  // namespace
