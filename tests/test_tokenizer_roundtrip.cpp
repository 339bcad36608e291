// detokenize(tokenize(s)) == s on random valid UTF-8 (emoji, CJK, combining marks, control
// characters, long whitespace runs, any scalar value) for every vocabulary fixture, whole and
// through the streaming detokenizer, which never emits a partial UTF-8 sequence.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "test_tokenizer_support.h"
#include "tokenizer/utf8.h"

namespace {

using namespace tokenizer_test;

void append_utf8(std::string &out, uint32_t code_point) { bitnet::utf8::append(out, code_point); }

bool is_valid_utf8(std::string_view text) {
    const auto *bytes = reinterpret_cast<const uint8_t *>(text.data());
    for (size_t pos = 0; pos < text.size();) {
        bitnet::utf8::Unit unit = bitnet::utf8::decode(bytes + pos, text.size() - pos);
        if (unit.code_point == bitnet::utf8::kInvalid) return false;
        pos += unit.length;
    }
    return true;
}

// Random text mixing the scripts and character kinds that stress a tokenizer.
class TextGenerator {
public:
    TextGenerator(uint32_t seed, bool allow_space_symbol) : random_(seed), allow_space_symbol_(allow_space_symbol) {}

    std::string text(size_t max_units) {
        std::string out;
        size_t units = std::uniform_int_distribution<size_t>(0, max_units)(random_);
        for (size_t i = 0; i < units; ++i) append_unit(out);
        return out;
    }

private:
    uint32_t in(uint32_t low, uint32_t high) { return std::uniform_int_distribution<uint32_t>(low, high)(random_); }

    void append_unit(std::string &out) {
        switch (in(0, 13)) {
        case 0: case 1: case 2: {  // ASCII words and punctuation
            static const char *const words[] = {"Hello", "world", "the", "don't", "I'LL", "it's", "x=1;", "{}", "==",
                                                "3.14", "1234567", "foo_bar", "(", ")", "!!!", "'", "\"", "-", "<s>", "</s>",
                                                "<|eot_id|>", "<0x41>", "https://example.com/a?b=c"};
            out += words[in(0, sizeof words / sizeof words[0] - 1)];
            break;
        }
        case 3: {  // whitespace runs, long ones included
            static const uint32_t spaces[] = {' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0xA0, 0x3000, 0x2028, 0x85, 0x2003};
            uint32_t run = in(0, 3) == 0 ? in(10, 80) : in(1, 4);
            for (uint32_t i = 0; i < run; ++i) append_utf8(out, spaces[in(0, in(0, 1) ? 2 : sizeof spaces / sizeof spaces[0] - 1)]);
            break;
        }
        case 4:  // control characters, NUL included
            append_utf8(out, in(0, 2) ? in(0x00, 0x1F) : in(0x7F, 0x9F));
            break;
        case 5: {  // emoji, with ZWJ sequences, variation selectors and skin tones
            append_utf8(out, in(0, 2) ? in(0x1F300, 0x1F64F) : in(0x1F900, 0x1F9FF));
            if (in(0, 3) == 0) append_utf8(out, in(0x1F3FB, 0x1F3FF));
            if (in(0, 3) == 0) {
                append_utf8(out, 0x200D);
                append_utf8(out, in(0x1F680, 0x1F6FF));
            }
            if (in(0, 3) == 0) append_utf8(out, 0xFE0F);
            break;
        }
        case 6:  // CJK ideographs, kana, hangul
            append_utf8(out, in(0, 2) == 0 ? in(0x3040, 0x30FF) : in(0, 1) ? in(0x4E00, 0x9FFF) : in(0xAC00, 0xD7A3));
            break;
        case 7:  // a letter with combining marks
            append_utf8(out, in('a', 'z'));
            for (uint32_t i = in(1, 3); i > 0; --i) append_utf8(out, in(0x0300, 0x036F));
            break;
        case 8:  // Cyrillic, Arabic, Devanagari, Thai
            append_utf8(out, in(0, 3) == 0 ? in(0x0400, 0x04FF) : in(0, 2) == 0 ? in(0x0600, 0x06FF)
                                                                   : in(0, 1)  ? in(0x0900, 0x097F)
                                                                               : in(0x0E00, 0x0E7F));
            break;
        case 9:  // digits of several scripts
            append_utf8(out, in(0, 2) ? in('0', '9') : in(0, 1) ? in(0x0660, 0x0669) : in(0xFF10, 0xFF19));
            break;
        case 10: case 11: {  // any scalar value: unassigned, private use and plane 16 included
            uint32_t code_point;
            do {
                code_point = in(0, 1) ? in(0x80, 0xFFFF) : in(0x10000, 0x10FFFF);
            } while ((code_point >= 0xD800 && code_point <= 0xDFFF) || (!allow_space_symbol_ && code_point == 0x2581));
            append_utf8(out, code_point);
            break;
        }
        default:
            out += static_cast<char>(in(0x20, 0x7E));
            break;
        }
    }

    std::mt19937 random_;
    bool allow_space_symbol_;
};

struct Vocab {
    const char *fixture;
    // SentencePiece with U+2581 as its space symbol cannot tell that character from a space.
    bool allows_space_symbol;
};
constexpr Vocab kVocabularies[] = {
    {"vocab/ggml-vocab-llama3-bpe.gguf", true},
    {"vocab/ggml-vocab-llama-spm.gguf", false},
    {"tiny/aidreams260K-f32.gguf", true},
};

std::string stream_detokenize(const bitnet_model *model, const std::vector<bitnet_token> &tokens, bool *all_valid) {
    bitnet_detokenizer *detokenizer = nullptr;
    EXPECT_EQ(bitnet_detokenizer_new(model, false, &detokenizer), BITNET_OK) << bitnet_last_error();
    std::string text;
    char buffer[256];
    *all_valid = true;
    for (bitnet_token token : tokens) {
        int32_t written = bitnet_detokenizer_push(detokenizer, token, buffer, sizeof buffer);
        EXPECT_GE(written, 0) << bitnet_last_error();
        if (written < 0) break;
        std::string_view piece(buffer, static_cast<size_t>(written));
        *all_valid = *all_valid && is_valid_utf8(piece);
        text.append(piece);
    }
    int32_t written = bitnet_detokenizer_flush(detokenizer, buffer, sizeof buffer);
    EXPECT_EQ(written, 0) << "valid input leaves nothing held back";
    bitnet_detokenizer_free(detokenizer);
    return text;
}

class TokenizerRoundTrip : public ::testing::TestWithParam<Vocab> {};

TEST_P(TokenizerRoundTrip, RandomValidUtf8SurvivesTokenizeDetokenize) {
    BITNET_REQUIRE_FIXTURE(path, GetParam().fixture);
    ModelPtr model = load_vocab_file(path);
    ASSERT_TRUE(model);
    TextGenerator generator(20240917, GetParam().allows_space_symbol);
    constexpr int kTexts = 400;
    int exact = 0, exact_with_special = 0, streamed = 0;
    size_t bytes = 0;
    for (int i = 0; i < kTexts; ++i) {
        std::string text = generator.text(i % 50 == 0 ? 3000 : 120);
        bytes += text.size();
        std::vector<bitnet_token> tokens = tokenize(model.get(), text);
        std::string back = detokenize(model.get(), tokens);
        EXPECT_EQ(back, text) << "text #" << i;
        exact += back == text;

        std::vector<bitnet_token> with_special = tokenize(model.get(), text, /*add_special=*/true);
        std::string back_special = detokenize(model.get(), with_special, /*remove_special=*/true);
        EXPECT_EQ(back_special, text) << "text #" << i << " with BOS";
        exact_with_special += back_special == text;

        bool all_valid = false;
        std::string stream = stream_detokenize(model.get(), tokens, &all_valid);
        EXPECT_EQ(stream, text) << "text #" << i << " streamed";
        EXPECT_TRUE(all_valid) << "text #" << i << ": a push emitted a partial UTF-8 sequence";
        streamed += stream == text && all_valid;
    }
    std::printf("%s: round trip %d/%d exact, %d/%d with BOS/EOS added and removed, %d/%d streamed (%zu bytes)\n",
                GetParam().fixture, exact, kTexts, exact_with_special, kTexts, streamed, kTexts, bytes);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerRoundTrip, ::testing::ValuesIn(kVocabularies),
                         [](const ::testing::TestParamInfo<Vocab> &info) {
                             return std::string(info.index == 0 ? "Llama3Bpe" : info.index == 1 ? "LlamaSpm" : "Aidreams");
                         });

}  // namespace
