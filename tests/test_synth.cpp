// Synthetic models: the official 2B-4T file layout, the same function in every format, seeds,
// embedding types, copied vocabularies, and (label `heavy`) the full 2b4t shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "gguf/gguf.h"
#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/official_layout.h"
#include "support/test_support.h"
#include "synth/synth.h"
#include "synth/synth_vocab.h"
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

// A filler token's text: byte-level letters a-z, optionally after a 'Ġ' (a leading space).
bool is_filler_word(const std::string &text) {
    std::string_view word = text;
    if (word.rfind("\xC4\xA0", 0) == 0) word.remove_prefix(2);
    if (word.size() < 2) return false;
    for (char c : word) {
        if (c < 'a' || c > 'z') return false;
    }
    return true;
}

TEST(Synth, The2b4tVocabularyHasLlama3SpecialIdsAndPrintableFiller) {
    auto start = std::chrono::steady_clock::now();
    bitnet::SynthVocabulary vocab = bitnet::make_synth_vocabulary(nullptr, bitnet::synth_preset("2b4t").n_vocab);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ vocab ] %zu tokens built in %.1f ms\n", vocab.tokens.size(), ms);
    ASSERT_EQ(vocab.n_tokens, 128256u);
    ASSERT_EQ(vocab.tokens.size(), 128256u);
    ASSERT_EQ(vocab.token_types.size(), 128256u);
    EXPECT_EQ(vocab.bos, 128000);
    EXPECT_EQ(vocab.eos, 128001);
    // formats.md §4.2.
    const std::pair<int, const char *> specials[] = {
        {128000, "<|begin_of_text|>"}, {128001, "<|end_of_text|>"}, {128002, "<|reserved_special_token_0|>"},
        {128005, "<|reserved_special_token_3|>"}, {128006, "<|start_header_id|>"}, {128007, "<|end_header_id|>"},
        {128008, "<|reserved_special_token_4|>"}, {128009, "<|eot_id|>"}, {128010, "<|reserved_special_token_5|>"},
        {128255, "<|reserved_special_token_250|>"}};
    for (const auto &[id, text] : specials) EXPECT_EQ(vocab.tokens[id], text) << id;
    std::unordered_set<std::string> seen;
    int bad_filler = 0;
    for (size_t id = 0; id < vocab.tokens.size(); ++id) {
        EXPECT_TRUE(seen.insert(vocab.tokens[id]).second) << "token " << id << " repeats '" << vocab.tokens[id] << "'";
        const int expected_type = id >= 128000 ? 3 : 1;  // CONTROL : NORMAL
        ASSERT_EQ(vocab.token_types[id], expected_type) << "token " << id << " '" << vocab.tokens[id] << "'";
        if (id >= 256 && id < 128000) bad_filler += !is_filler_word(vocab.tokens[id]);
    }
    EXPECT_EQ(bad_filler, 0) << "filler tokens must be printable pseudo-words";
    EXPECT_LT(ms, 2000.0);
    // Deterministic.
    EXPECT_EQ(bitnet::make_synth_vocabulary(nullptr, 128256).tokens, vocab.tokens);
}

TEST(Synth, SmallPaddedVocabularyKeepsItsSpecialsAndPadsWithNormalWords) {
    bitnet::SynthVocabulary plain = bitnet::make_synth_vocabulary(nullptr, 0);
    EXPECT_EQ(plain.n_tokens, 259u);  // the tiny and small presets
    bitnet::SynthVocabulary vocab = bitnet::make_synth_vocabulary(nullptr, 1000);
    ASSERT_EQ(vocab.n_tokens, 1000u);
    EXPECT_EQ(vocab.bos, 256);
    EXPECT_EQ(vocab.eos, 257);
    EXPECT_EQ(vocab.tokens[258], "<|eot_id|>");
    for (size_t id = 259; id < 1000; ++id) {
        EXPECT_EQ(vocab.token_types[id], 1) << id;
        EXPECT_TRUE(is_filler_word(vocab.tokens[id])) << id << " '" << vocab.tokens[id] << "'";
    }
}

// Random weights over a padded vocabulary must print visible noise: sampled ids are almost all
// filler, and a filler token that rendered as nothing (a control token) would print nothing.
TEST(Synth, RandomWeightsOverAPaddedVocabularyGenerateVisibleText) {
    bitnet::SynthOptions options;
    options.shape = bitnet::synth_preset("tiny");
    options.shape.n_vocab = 2048;
    std::vector<uint8_t> bytes = bitnet::synthesize_model(options);
    bitnet_model *raw = nullptr;
    ASSERT_EQ(bitnet_model_load_memory(bytes.data(), bytes.size(), nullptr, &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ModelPtr model(raw);
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    ASSERT_EQ(n_vocab, 2048);
    bitnet_test::ContextPtr context = bitnet_test::make_context(model.get(), bitnet_test::RunOptions{}, 64);
    ASSERT_TRUE(context);
    std::vector<bitnet_token> generated;
    bitnet_token token = bitnet_vocab_bos(model.get());
    for (int32_t pos = 0; pos < 16; ++pos) {
        ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {token}, pos, 0), BITNET_OK) << bitnet_last_error();
        std::vector<float> logits = bitnet_test::logits_copy(context.get(), -1, n_vocab);
        // Every third step the second-best token, so that the text is not one word repeated.
        std::vector<int> order(logits.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
        std::partial_sort(order.begin(), order.begin() + 2, order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
        token = order[pos % 3 == 2 ? 1 : 0];
        generated.push_back(token);
    }
    std::string text(256, '\0');
    int32_t n = bitnet_detokenize(model.get(), generated.data(), static_cast<int32_t>(generated.size()), text.data(),
                                  static_cast<int32_t>(text.size()), false, false);
    ASSERT_GE(n, 0) << bitnet_last_error();
    text.resize(static_cast<size_t>(n));
    std::printf("[ noise ] \"%s\"\n", text.c_str());
    int letters = 0;
    for (char c : text) letters += c >= 'a' && c <= 'z';
    EXPECT_GE(letters, 16) << "16 generated tokens printed \"" << text << "\"";
}

}  // namespace
