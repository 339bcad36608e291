// The tokenizer's C API: return conventions, vocabulary queries, special tokens, invalid UTF-8
// and embedded NUL bytes, and streaming detokenization.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "test_tokenizer_support.h"

namespace {

using namespace tokenizer_test;

class Llama3Api : public ::testing::Test {
protected:
    void SetUp() override {
        std::string path = bitnet_test::fixture_path("vocab/ggml-vocab-llama3-bpe.gguf");
        if (path.empty()) GTEST_SKIP() << "skipped: fixture vocab/ggml-vocab-llama3-bpe.gguf not found";
        model_ = load_vocab_file(path);
        ASSERT_TRUE(model_);
    }
    const bitnet_model *model() const { return model_.get(); }

private:
    ModelPtr model_;
};

class SpmApi : public ::testing::Test {
protected:
    void SetUp() override {
        std::string path = bitnet_test::fixture_path("vocab/ggml-vocab-llama-spm.gguf");
        if (path.empty()) GTEST_SKIP() << "skipped: fixture vocab/ggml-vocab-llama-spm.gguf not found";
        model_ = load_vocab_file(path);
        ASSERT_TRUE(model_);
    }
    const bitnet_model *model() const { return model_.get(); }

private:
    ModelPtr model_;
};

TEST(TokenizerApi, NullModelIsAnErrorWithAMessage) {
    bitnet_token tokens[4];
    EXPECT_EQ(bitnet_tokenize(nullptr, "hi", 2, tokens, 4, false, false), BITNET_COUNT_ERROR);
    EXPECT_NE(std::strstr(bitnet_last_error(), "model is NULL"), nullptr) << bitnet_last_error();
    char text[8];
    EXPECT_EQ(bitnet_token_to_piece(nullptr, 0, text, 8, false), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_detokenize(nullptr, tokens, 1, text, 8, false, false), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_vocab_n_tokens(nullptr), 0);
    EXPECT_EQ(bitnet_vocab_bos(nullptr), BITNET_TOKEN_NULL);
    EXPECT_FALSE(bitnet_token_is_eog(nullptr, 0));
    EXPECT_EQ(bitnet_token_text(nullptr, 0), nullptr);
    EXPECT_EQ(bitnet_token_get_type(nullptr, 0), BITNET_TOKEN_TYPE_UNDEFINED);
    bitnet_detokenizer *detokenizer = reinterpret_cast<bitnet_detokenizer *>(1);
    EXPECT_EQ(bitnet_detokenizer_new(nullptr, false, &detokenizer), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(detokenizer, nullptr);
    bitnet_detokenizer_free(nullptr);
}

TEST_F(Llama3Api, VocabularyQueriesComeFromTheMetadata) {
    EXPECT_EQ(bitnet_vocab_n_tokens(model()), 128256);
    EXPECT_EQ(bitnet_vocab_bos(model()), 128000);
    EXPECT_EQ(bitnet_vocab_eos(model()), 128001);
    EXPECT_EQ(bitnet_vocab_eot(model()), 128009);
    EXPECT_TRUE(bitnet_token_is_eog(model(), 128001));
    EXPECT_TRUE(bitnet_token_is_eog(model(), 128009));
    EXPECT_FALSE(bitnet_token_is_eog(model(), 128000));
    EXPECT_FALSE(bitnet_token_is_eog(model(), 9906));
    EXPECT_FALSE(bitnet_token_is_eog(model(), -1));
    EXPECT_STREQ(bitnet_token_text(model(), 128009), "<|eot_id|>");
    EXPECT_STREQ(bitnet_token_text(model(), 22691), "\xC4\xA0Hello");  // "ĠHello": the byte-level spelling
    EXPECT_EQ(bitnet_token_text(model(), 128256), nullptr);
    EXPECT_EQ(bitnet_token_get_type(model(), 9906), BITNET_TOKEN_TYPE_NORMAL);
    EXPECT_EQ(bitnet_token_get_type(model(), 128000), BITNET_TOKEN_TYPE_CONTROL);
}

TEST_F(Llama3Api, TooSmallBufferReturnsTheNegatedNeededCount) {
    const char *text = "Hello world";
    EXPECT_EQ(bitnet_tokenize(model(), text, 11, nullptr, 0, false, false), -2);
    bitnet_token one[1] = {-7};
    EXPECT_EQ(bitnet_tokenize(model(), text, 11, one, 1, false, false), -2);
    EXPECT_EQ(one[0], -7) << "nothing is written when the result does not fit";
    bitnet_token two[2];
    EXPECT_EQ(bitnet_tokenize(model(), text, 11, two, 2, false, false), 2);
    EXPECT_EQ(bitnet_tokenize(model(), text, 11, two, -1, false, false), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_tokenize(model(), nullptr, 3, two, 2, false, false), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_tokenize(model(), nullptr, 0, two, 2, false, false), 0);

    char piece[8];
    EXPECT_EQ(bitnet_token_to_piece(model(), 22691, piece, 3, false), -6);  // " Hello"
    EXPECT_EQ(bitnet_token_to_piece(model(), 22691, piece, 8, false), 6);
    EXPECT_EQ(std::string(piece, 6), " Hello");
    EXPECT_EQ(bitnet_token_to_piece(model(), 128256, piece, 8, false), BITNET_COUNT_ERROR);
    EXPECT_NE(std::strstr(bitnet_last_error(), "128256"), nullptr) << bitnet_last_error();

    bitnet_token tokens[] = {9906, 1917};
    EXPECT_EQ(bitnet_detokenize(model(), tokens, 2, piece, 4, false, false), -11);
    bitnet_token bad[] = {9906, 999999};
    EXPECT_EQ(bitnet_detokenize(model(), bad, 2, piece, 8, false, false), BITNET_COUNT_ERROR);
}

TEST_F(Llama3Api, AddSpecialPutsBosFirst) {
    EXPECT_EQ(tokenize(model(), "Hello world", true), (std::vector<bitnet_token>{128000, 9906, 1917}));
    EXPECT_EQ(tokenize(model(), "", true), (std::vector<bitnet_token>{128000}));
    EXPECT_EQ(detokenize(model(), {128000, 9906, 1917}, /*remove_special=*/true), "Hello world");
    EXPECT_EQ(detokenize(model(), {128000, 9906, 1917}, false, /*render_special=*/true), "<|begin_of_text|>Hello world");
    EXPECT_EQ(detokenize(model(), {128000, 9906, 1917}, false, false), "Hello world") << "control tokens render as nothing";
}

TEST_F(Llama3Api, SpecialTokenTextIsRecognisedOnlyWithParseSpecial) {
    const std::string text = "Hi<|eot_id|><|start_header_id|>";
    std::vector<bitnet_token> parsed = tokenize(model(), text, false, /*parse_special=*/true);
    EXPECT_EQ(parsed, (std::vector<bitnet_token>{13347, 128009, 128006}));
    std::vector<bitnet_token> plain = tokenize(model(), text, false, /*parse_special=*/false);
    for (bitnet_token token : plain) EXPECT_LT(token, 128000) << "plain text never yields a control token";
    EXPECT_EQ(detokenize(model(), plain), text);
    EXPECT_EQ(detokenize(model(), parsed, false, /*render_special=*/true), text);
}

// Invalid UTF-8 and NUL bytes: documented result is that every byte goes through its byte-level
// token, so the exact bytes come back from bitnet_detokenize.
TEST_F(Llama3Api, InvalidUtf8AndNulBytesRoundTripThroughByteTokens) {
    const std::string cases[] = {
        std::string("\xFF"),           std::string("abc\x80" "def"),   std::string("\xE4\xB8"),  // truncated
        std::string("\xED\xA0\x80"),   std::string("\xC0\xAF"),        std::string("\xF4\x90\x80\x80"),
        std::string("a\0b", 3),        std::string("\0\0\0", 3),       std::string(" \xC3(\xA9 x"),
        std::string("\xF0\x9F\xA6"),   // an emoji cut short
    };
    for (const std::string &text : cases) {
        std::vector<bitnet_token> tokens = tokenize(model(), text);
        EXPECT_FALSE(tokens.empty());
        EXPECT_EQ(detokenize(model(), tokens), text);
    }
    // A NUL byte is the byte-level token for 0x00 ("Ā").
    EXPECT_EQ(tokenize(model(), std::string("\0", 1)), (std::vector<bitnet_token>{bitnet_token(188)}));
}

TEST_F(SpmApi, InvalidUtf8AndNulBytesRoundTripThroughByteFallback) {
    const std::string cases[] = {std::string("\xFF"), std::string("abc\x80" "def"), std::string("\xE4\xB8"),
                                 std::string("a\0b", 3), std::string("\xED\xA0\x80 z")};
    for (const std::string &text : cases) {
        std::vector<bitnet_token> tokens = tokenize(model(), text);
        EXPECT_EQ(detokenize(model(), tokens), text);
    }
    // "\xFF" -> "▁" then the byte token <0xFF> (id 3 + 0xFF).
    EXPECT_EQ(tokenize(model(), "\xFF"), (std::vector<bitnet_token>{29871, 3 + 0xFF}));
}

TEST_F(Llama3Api, RandomBytesNeverCrashAndRoundTrip) {
    std::mt19937 random(7);
    for (int i = 0; i < 300; ++i) {
        std::string text(std::uniform_int_distribution<int>(0, 200)(random), '\0');
        for (char &byte : text) byte = static_cast<char>(random());
        EXPECT_EQ(detokenize(model(), tokenize(model(), text)), text);
        EXPECT_EQ(detokenize(model(), tokenize(model(), text, /*add_special=*/true), /*remove_special=*/true), text);
    }
}

TEST_F(SpmApi, RandomBytesNeverCrashAndRoundTrip) {
    std::mt19937 random(11);
    for (int i = 0; i < 300; ++i) {
        std::string text(std::uniform_int_distribution<int>(0, 200)(random), '\0');
        for (char &byte : text) byte = static_cast<char>(random());
        // U+2581 is SentencePiece's space symbol and reads back as a space.
        for (size_t at = text.find("\xE2\x96\x81"); at != std::string::npos; at = text.find("\xE2\x96\x81")) text[at] = 'x';
        EXPECT_EQ(detokenize(model(), tokenize(model(), text)), text);
    }
}

TEST_F(SpmApi, DetokenizeRemovesTheSpaceTheTokenizerAdded) {
    EXPECT_EQ(tokenize(model(), "Hello world"), (std::vector<bitnet_token>{15043, 3186}));
    EXPECT_EQ(detokenize(model(), {15043, 3186}), "Hello world");
    EXPECT_EQ(detokenize(model(), {1, 15043, 3186}, false, false), "Hello world");
    EXPECT_EQ(detokenize(model(), {1, 15043, 3186}, true, false), "Hello world");
    EXPECT_EQ(detokenize(model(), {1, 15043, 3186}, false, true), "<s>Hello world");
    // bitnet_token_to_piece gives a token's own bytes, its leading space included.
    char piece[16];
    ASSERT_EQ(bitnet_token_to_piece(model(), 15043, piece, sizeof piece, false), 6);
    EXPECT_EQ(std::string(piece, 6), " Hello");
    // After a special token the tokenizer adds the space again, and detokenize removes it again.
    std::vector<bitnet_token> parsed = tokenize(model(), "<s>Hi</s>Hi", false, true);
    EXPECT_EQ(detokenize(model(), parsed, false, true), "<s>Hi</s>Hi");
}

TEST_F(SpmApi, SpecialsAndUnknownRender) {
    EXPECT_EQ(bitnet_vocab_bos(model()), 1);
    EXPECT_EQ(bitnet_vocab_eos(model()), 2);
    EXPECT_TRUE(bitnet_token_is_eog(model(), 2));
    EXPECT_EQ(bitnet_token_get_type(model(), 0), BITNET_TOKEN_TYPE_UNKNOWN);
    EXPECT_EQ(detokenize(model(), {0}, false, false), "\xEF\xBF\xBD");
    EXPECT_EQ(detokenize(model(), {0}, false, true), "<unk>");
    EXPECT_EQ(tokenize(model(), "Hi", true), (std::vector<bitnet_token>{1, 6324}));
}

// A character split over several byte tokens is held back until it completes.
TEST_F(Llama3Api, StreamingNeverEmitsAPartialCharacter) {
    // " 🦙" is "Ġð" + "Ł" + "¦Ļ" pieces in the golden vectors: 11410 99 247.
    std::vector<bitnet_token> tokens = tokenize(model(), " \xF0\x9F\xA6\x99!");
    ASSERT_EQ(tokens, (std::vector<bitnet_token>{11410, 99, 247, 0}));
    bitnet_detokenizer *detokenizer = nullptr;
    ASSERT_EQ(bitnet_detokenizer_new(model(), false, &detokenizer), BITNET_OK);
    char buffer[16];
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 11410, buffer, sizeof buffer), 1);  // the space only
    EXPECT_EQ(buffer[0], ' ');
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 99, buffer, sizeof buffer), 0);
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 247, buffer, 2), -4) << "too small: nothing consumed";
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 247, buffer, sizeof buffer), 4);
    EXPECT_EQ(std::string(buffer, 4), "\xF0\x9F\xA6\x99");
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 0, buffer, sizeof buffer), 1);
    EXPECT_EQ(bitnet_detokenizer_flush(detokenizer, buffer, sizeof buffer), 0);

    // An unfinished character at the end of the stream is flushed as U+FFFD per byte.
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 11410, buffer, sizeof buffer), 1);
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, 99, buffer, sizeof buffer), 0);
    EXPECT_EQ(bitnet_detokenizer_flush(detokenizer, buffer, sizeof buffer), 9);
    EXPECT_EQ(std::string(buffer, 9), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    // A byte that can never start a character is replaced at once.
    std::vector<bitnet_token> invalid = tokenize(model(), "\xFF" "a");
    std::string streamed;
    for (bitnet_token token : invalid) {
        int32_t written = bitnet_detokenizer_push(detokenizer, token, buffer, sizeof buffer);
        ASSERT_GE(written, 0);
        streamed.append(buffer, static_cast<size_t>(written));
    }
    EXPECT_EQ(streamed, "\xEF\xBF\xBD" "a");
    EXPECT_EQ(bitnet_detokenizer_push(detokenizer, -5, buffer, sizeof buffer), BITNET_COUNT_ERROR);
    bitnet_detokenizer_free(detokenizer);
}

}  // namespace
