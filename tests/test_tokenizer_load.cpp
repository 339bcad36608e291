// Loading vocabularies from GGUF metadata: which tokenizer a file gets, and errors that name the
// key for malformed or unsupported tokenizer metadata.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "test_tokenizer_support.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/vocabulary.h"
#include "util/error.h"

namespace {

using bitnet::Vocabulary;
using bitnet::gguf::File;
using bitnet::gguf::Writer;

// A small byte-level BPE vocabulary: the 256 byte tokens, a few merges, three specials.
struct SmallBpe {
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    std::vector<std::string> merges;

    SmallBpe() {
        for (uint32_t byte = 0; byte < 256; ++byte) tokens.push_back(bitnet::byte_level::encode_byte(static_cast<uint8_t>(byte)));
        types.assign(256, BITNET_TOKEN_TYPE_NORMAL);
        for (const char *merge : {"h e", "l l", "he ll", "hell o", "\xC4\xA0 w"}) {
            std::string text = merge;
            merges.push_back(text);
            text.erase(text.find(' ', 1), 1);
            tokens.push_back(text);
            types.push_back(BITNET_TOKEN_TYPE_NORMAL);
        }
        for (const char *special : {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"}) {
            tokens.push_back(special);
            types.push_back(BITNET_TOKEN_TYPE_CONTROL);
        }
    }
    bitnet_token id_of(std::string_view text) const {
        for (size_t i = 0; i < tokens.size(); ++i) {
            if (tokens[i] == text) return static_cast<bitnet_token>(i);
        }
        return BITNET_TOKEN_NULL;
    }
};

// The GGUF image of `vocab`, with `edit` applied to the writer last (to break or replace keys).
std::vector<uint8_t> image_of(const SmallBpe &vocab, const std::function<void(Writer &)> &edit = {}) {
    Writer writer;
    writer.set_string("general.architecture", "llama");
    writer.set_string("tokenizer.ggml.model", "gpt2");
    writer.set_string_array("tokenizer.ggml.tokens", vocab.tokens);
    writer.set_i32_array("tokenizer.ggml.token_type", vocab.types);
    writer.set_string_array("tokenizer.ggml.merges", vocab.merges);
    writer.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab.id_of("<|begin_of_text|>")));
    writer.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(vocab.id_of("<|end_of_text|>")));
    if (edit) edit(writer);
    return writer.write_to_memory();
}

struct Loaded {
    std::vector<uint8_t> image;
    File file;
    std::unique_ptr<Vocabulary> vocab;
};

std::unique_ptr<Loaded> load(std::vector<uint8_t> image) {
    auto loaded = std::make_unique<Loaded>();
    loaded->image = std::move(image);
    loaded->file = File::parse(loaded->image.data(), loaded->image.size());
    loaded->vocab = Vocabulary::load(loaded->file);
    return loaded;
}

// Loading fails with `status` and a message containing `needle`.
void expect_load_error(std::vector<uint8_t> image, bitnet_status status, const std::string &needle) {
    try {
        load(std::move(image));
        ADD_FAILURE() << "expected an error containing \"" << needle << "\"";
    } catch (const bitnet::Error &error) {
        EXPECT_EQ(error.status(), status) << error.what();
        EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
}

std::vector<bitnet_token> tokenize(const Vocabulary &vocab, std::string_view text) {
    std::vector<bitnet_token> out;
    vocab.tokenize(text, false, false, out);
    return out;
}

TEST(VocabularyLoad, FileWithoutTokenizerHasNoVocabulary) {
    Writer writer;
    writer.set_string("general.architecture", "llama");
    EXPECT_EQ(load(writer.write_to_memory())->vocab, nullptr);
    SmallBpe vocab;
    EXPECT_EQ(load(image_of(vocab, [](Writer &w) { w.set_string("tokenizer.ggml.model", "none"); }))->vocab, nullptr);
}

TEST(VocabularyLoad, SmallBpeMergesByRankAndRoundTrips) {
    SmallBpe small;
    auto loaded = load(image_of(small));
    ASSERT_TRUE(loaded->vocab);
    const Vocabulary &vocab = *loaded->vocab;
    EXPECT_EQ(vocab.pre_tokenizer(), bitnet::PreTokenizer::Gpt2) << "no pre key and not the Llama 3 vocabulary";
    EXPECT_FALSE(vocab.add_bos());
    EXPECT_EQ(tokenize(vocab, "hello world"),
              (std::vector<bitnet_token>{small.id_of("hello"), small.id_of("\xC4\xA0w"), 'o', 'r', 'l', 'd'}))
        << "the byte tokens come first, in byte order";
    EXPECT_TRUE(vocab.is_eog(small.id_of("<|eot_id|>")));
    EXPECT_EQ(vocab.eot(), small.id_of("<|eot_id|>"));
    std::vector<bitnet_token> tokens = tokenize(vocab, "hello world");
    EXPECT_EQ(bitnet::detokenize(vocab, tokens, false, false), "hello world");
}

TEST(VocabularyLoad, Gpt2PreTokenizerKeepsContractionsCaseSensitive) {
    SmallBpe small;
    auto loaded = load(image_of(small, [](Writer &w) { w.set_string("tokenizer.ggml.pre", "gpt-2"); }));
    std::vector<bitnet_token> lower = tokenize(*loaded->vocab, "it's");
    std::vector<bitnet_token> upper = tokenize(*loaded->vocab, "IT'S");
    EXPECT_EQ(lower.size(), 4u);
    EXPECT_EQ(upper.size(), 4u);
    EXPECT_EQ(bitnet::detokenize(*loaded->vocab, upper, false, false), "IT'S");
}

TEST(VocabularyLoad, UnsupportedModelOrPreTokenizerIsNamed) {
    SmallBpe vocab;
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_string("tokenizer.ggml.model", "bert"); }),
                      BITNET_ERR_UNSUPPORTED, "'bert'");
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_string("tokenizer.ggml.pre", "qwen2"); }),
                      BITNET_ERR_UNSUPPORTED, "'qwen2'");
}

TEST(VocabularyLoad, MalformedMetadataIsInvalidModel) {
    SmallBpe vocab;
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_i32_array("tokenizer.ggml.token_type", {1, 1}); }),
                      BITNET_ERR_INVALID_MODEL, "token_type has 2 entries");
    SmallBpe bad_type = vocab;
    bad_type.types[7] = 9;
    expect_load_error(image_of(bad_type), BITNET_ERR_INVALID_MODEL, "token_type[7] = 9");
    SmallBpe bad_merge = vocab;
    bad_merge.merges[2] = "hell";
    expect_load_error(image_of(bad_merge), BITNET_ERR_INVALID_MODEL, "merges[2]");
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_u32("tokenizer.ggml.bos_token_id", 100000); }),
                      BITNET_ERR_INVALID_MODEL, "bos_token_id = 100000");
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_i32_array("tokenizer.ggml.tokens", {1, 2, 3}); }),
                      BITNET_ERR_INVALID_MODEL, "tokenizer.ggml.tokens");
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_string_array("tokenizer.ggml.tokens", {}); }),
                      BITNET_ERR_INVALID_MODEL, "tokenizer.ggml.tokens is empty");
    expect_load_error(image_of(vocab, [](Writer &w) { w.set_f32_array("tokenizer.ggml.scores", {0.0f}); }),
                      BITNET_ERR_INVALID_MODEL, "scores has 1 entries");
}

TEST(VocabularyLoad, MergesThatNameNoTokensAreSkipped) {
    SmallBpe vocab;
    vocab.merges.push_back("q z");  // "qz" is no token: this merge can never apply
    auto loaded = load(image_of(vocab));
    EXPECT_EQ(tokenize(*loaded->vocab, "qz").size(), 2u);
}

TEST(VocabularyLoad, Llama3VocabularyLoadsQuickly) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama3-bpe.gguf");
    std::vector<uint8_t> image = bitnet_test::read_file(path);
    File file = File::parse(image.data(), image.size());
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
        auto start = std::chrono::steady_clock::now();
        std::unique_ptr<Vocabulary> vocab = Vocabulary::load(file);
        best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        ASSERT_TRUE(vocab);
        EXPECT_EQ(vocab->pre_tokenizer(), bitnet::PreTokenizer::Llama3);
    }
    std::printf("llama3 vocabulary (128256 tokens, 280147 merges) loads in %.1f ms\n", best);
}

// The llama2.c-derived vocabulary spells spaces as spaces, not U+2581.
TEST(VocabularyLoad, Llama2cVocabularyUsesPlainSpaces) {
    BITNET_REQUIRE_FIXTURE(path, "tiny/aidreams260K-f32.gguf");
    std::vector<uint8_t> image = bitnet_test::read_file(path);
    File file = File::parse(image.data(), image.size());
    std::unique_ptr<Vocabulary> vocab = Vocabulary::load(file);
    ASSERT_TRUE(vocab);
    EXPECT_EQ(vocab->model(), bitnet::TokenizerModel::SentencePiece);
    std::vector<bitnet_token> tokens = tokenize(*vocab, "in the dream");
    ASSERT_FALSE(tokens.empty());
    EXPECT_EQ(vocab->text(tokens[0]).substr(0, 1), " ") << "the space prefix joins the first word";
    for (bitnet_token token : tokens) EXPECT_NE(vocab->type(token), BITNET_TOKEN_TYPE_BYTE) << "no byte fallback for plain words";
    EXPECT_EQ(bitnet::detokenize(*vocab, tokens, false, false), "in the dream");

    // The reference greedy continuation (expected.txt) reads as words.
    const std::vector<bitnet_token> greedy = {1, 319, 459, 355, 260, 275, 429, 339, 315, 374, 327, 446};
    std::string text = bitnet::detokenize(*vocab, greedy, true, false);
    std::printf("aidreams greedy continuation: \"%s\"\n", text.c_str());
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text.front(), ' ');
}

}  // namespace
