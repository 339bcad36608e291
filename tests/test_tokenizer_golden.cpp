// The tokenizers reproduce llama.cpp's golden vectors exactly (test-tokenizer-0: no BOS/EOS, no
// special-token parsing), and the official 2B-4T key set (no tokenizer.ggml.pre) tokenizes like
// pre = llama-bpe.
#include <gtest/gtest.h>

#include <cstdio>

#include "test_tokenizer_support.h"

namespace {

using namespace tokenizer_test;

std::string describe(const std::vector<bitnet_token> &tokens) {
    std::string out;
    for (bitnet_token token : tokens) out += " " + std::to_string(token);
    return out;
}

// Tokenize every golden case; report the pass count; return it.
int run_golden(const bitnet_model *model, const std::vector<GoldenCase> &cases, const char *label) {
    int passed = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        std::vector<bitnet_token> actual = tokenize(model, cases[i].text);
        if (actual == cases[i].expected) {
            ++passed;
        } else {
            ADD_FAILURE() << label << " case " << i << " text \"" << cases[i].text << "\"\n  expected:" << describe(cases[i].expected)
                          << "\n  actual:  " << describe(actual);
        }
    }
    std::printf("%s golden: %d/%zu cases passed\n", label, passed, cases.size());
    return passed;
}

void expect_golden(const std::string &path, const char *label) {
    ModelPtr model = load_vocab_file(path);
    ASSERT_TRUE(model);
    std::vector<GoldenCase> cases = read_golden(path);
    ASSERT_EQ(cases.size(), 46u);
    EXPECT_EQ(run_golden(model.get(), cases, label), 46);
}

TEST(TokenizerGolden, Llama3BpeMatchesAll46Cases) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama3-bpe.gguf");
    expect_golden(path, "llama3-bpe");
}

TEST(TokenizerGolden, LlamaSpmMatchesAll46Cases) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama-spm.gguf");
    expect_golden(path, "llama-spm");
}

TEST(TokenizerGolden, Official2B4TKeySetWithoutPreTokenizesLikeLlamaBpe) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama3-bpe.gguf");
    std::vector<uint8_t> fixture = bitnet_test::read_file(path);
    bitnet::gguf::File llama3 = bitnet::gguf::File::parse(fixture.data(), fixture.size());
    ASSERT_FALSE(llama3.find("tokenizer.ggml.pre") == nullptr) << "the fixture is expected to carry pre = llama-bpe";

    std::unique_ptr<MemoryModel> official = load_vocab_memory(official_2b4t_vocab_image(llama3, /*with_pre=*/false));
    ASSERT_TRUE(official->model);
    EXPECT_STREQ(bitnet_model_architecture(official->model.get()), "bitnet-b1.58");
    ModelPtr reference = load_vocab_file(path);
    ASSERT_TRUE(reference);

    std::vector<GoldenCase> cases = read_golden(path);
    int identical = 0;
    for (const GoldenCase &golden : cases) {
        std::vector<bitnet_token> with_pre = tokenize(reference.get(), golden.text);
        std::vector<bitnet_token> without_pre = tokenize(official->model.get(), golden.text);
        EXPECT_EQ(without_pre, with_pre) << "text \"" << golden.text << "\"";
        identical += without_pre == with_pre && without_pre == golden.expected;
    }
    std::printf("2B-4T key set without tokenizer.ggml.pre: %d/%zu golden cases identical to pre = llama-bpe\n", identical,
                cases.size());
    EXPECT_EQ(identical, 46);

    // The official file's add_bos_token = true puts <|begin_of_text|> first.
    std::vector<bitnet_token> with_bos = tokenize(official->model.get(), "Hello world", /*add_special=*/true);
    EXPECT_EQ(with_bos, (std::vector<bitnet_token>{128000, 9906, 1917}));
}

}  // namespace
