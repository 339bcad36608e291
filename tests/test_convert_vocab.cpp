// The tokenizer through `bitnet convert`: a tokenizer.json built from the Llama 3 fixture vocabulary
// and a SentencePiece tokenizer.model built from the Llama 2 one are converted, and the 46 golden
// cases of each fixture (llama.cpp's test-tokenizer-0 vectors) must tokenize exactly.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>

#include "convert/converter.h"
#include "convert/json_file.h"
#include "support/hf_checkpoint.h"
#include "test_tokenizer_support.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace {

std::string new_folder(const std::string &name) {
    const std::string folder = bitnet_test::temp_dir() + "/" + name;
    ::mkdir(folder.c_str(), 0755);
    return folder;
}

void write_text(const std::string &path, const std::string &text) {
    bitnet_test::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string config_json(const char *arch, size_t n_vocab, int bos, int eos) {
    return std::string("{\"architectures\":[\"") + arch + "\"],\"vocab_size\":" + std::to_string(n_vocab) +
           ",\"hidden_size\":256,\"num_hidden_layers\":1,\"num_attention_heads\":4,\"intermediate_size\":384,"
           "\"rms_norm_eps\":1e-5,\"hidden_act\":\"silu\",\"bos_token_id\":" + std::to_string(bos) +
           ",\"eos_token_id\":" + std::to_string(eos) + "}";
}

void expect_golden_cases(const std::string &converted, const std::string &fixture) {
    auto model = tokenizer_test::load_vocab_file(converted);
    ASSERT_TRUE(model);
    const auto cases = tokenizer_test::read_golden(fixture);
    ASSERT_EQ(cases.size(), 46u);
    int passed = 0;
    for (const auto &golden : cases) {
        const auto tokens = tokenizer_test::tokenize(model.get(), golden.text);
        EXPECT_EQ(tokens, golden.expected) << "input: \"" << golden.text << "\"";
        passed += tokens == golden.expected;
    }
    std::printf("[ %s ] %d/46 golden cases pass on the converted vocabulary\n", fixture.c_str(), passed);
}

void convert_vocab(const std::string &folder, const std::string &out) {
    bitnet::convert::ConvertOptions options;
    options.input_folder = folder;
    options.output_path = out;
    options.vocab_only = true;
    ASSERT_NO_THROW(bitnet::convert::convert_checkpoint(options));
}

// A vocabulary-only conversion of `folder` that must fail: its message ("" if it was accepted).
std::string vocab_only_error(const std::string &folder) {
    try {
        bitnet::convert::ConvertOptions options;
        options.input_folder = folder;
        options.output_path = folder + "/out.gguf";
        options.vocab_only = true;
        bitnet::convert::convert_checkpoint(options);
    } catch (const bitnet::Error &error) {
        return error.what();
    }
    return "";
}

// The tokens of the converted file equal the fixture's, key by key.
void expect_same_array(const bitnet::gguf::File &a, const bitnet::gguf::File &b, const char *key) {
    const auto *x = a.find(key);
    const auto *y = b.find(key);
    ASSERT_TRUE(x && y) << key;
    ASSERT_EQ(x->value.payload_bytes, y->value.payload_bytes) << key;
    EXPECT_EQ(std::memcmp(x->value.payload, y->value.payload, x->value.payload_bytes), 0) << key;
}

TEST(ConvertVocabulary, Llama3TokenizerJsonPassesTheGoldenCases) {
    BITNET_REQUIRE_FIXTURE(fixture, "vocab/ggml-vocab-llama3-bpe.gguf");
    bitnet::MappedFile mapping = bitnet::MappedFile::open(fixture);
    const auto source = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    const auto tokens = *source.get_string_array("tokenizer.ggml.tokens");
    const auto types = *source.get_i32_array("tokenizer.ggml.token_type");
    const auto merges = *source.get_string_array("tokenizer.ggml.merges");

    // tokenizer.json as `tokenizers` writes it: base tokens in model.vocab, control ones as special
    // added_tokens, merges in the newer [left, right] pair form.
    const std::string folder = new_folder("hf_vocab_llama3");
    write_text(folder + "/tokenizer.json", bitnet_test::llama3_tokenizer_json(tokens, types, merges));
    write_text(folder + "/config.json", config_json("LlamaForCausalLM", tokens.size(), 128000, 128001));
    const std::string out = folder + "/vocab.gguf";
    convert_vocab(folder, out);

    bitnet::MappedFile converted_mapping = bitnet::MappedFile::open(out);
    const auto converted = bitnet::gguf::File::parse(converted_mapping.data(), converted_mapping.size());
    for (const char *key : {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"}) {
        expect_same_array(converted, source, key);
    }
    EXPECT_EQ(converted.get_string("tokenizer.ggml.pre"), "llama-bpe");
    expect_golden_cases(out, fixture);
}

TEST(ConvertVocabulary, Llama2SentencePieceModelPassesTheGoldenCases) {
    BITNET_REQUIRE_FIXTURE(fixture, "vocab/ggml-vocab-llama-spm.gguf");
    bitnet::MappedFile mapping = bitnet::MappedFile::open(fixture);
    const auto source = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    const auto views = *source.get_string_array("tokenizer.ggml.tokens");
    const std::vector<std::string> pieces(views.begin(), views.end());
    const auto scores = *source.get_f32_array("tokenizer.ggml.scores");
    const auto types = *source.get_i32_array("tokenizer.ggml.token_type");  // same numbers as the proto's Type

    const std::string folder = new_folder("hf_vocab_llama2");
    bitnet_test::write_file(folder + "/tokenizer.model", bitnet_test::sentencepiece_model_proto(pieces, scores, types));
    write_text(folder + "/config.json", config_json("BitnetForCausalLM", pieces.size(), 1, 2));
    const std::string out = folder + "/vocab.gguf";
    convert_vocab(folder, out);

    bitnet::MappedFile converted_mapping = bitnet::MappedFile::open(out);
    const auto converted = bitnet::gguf::File::parse(converted_mapping.data(), converted_mapping.size());
    for (const char *key : {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
        expect_same_array(converted, source, key);
    }
    EXPECT_EQ(converted.get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(converted.get_uint("tokenizer.ggml.bos_token_id"), 1u);
    EXPECT_EQ(converted.get_uint("tokenizer.ggml.eos_token_id"), 2u);
    EXPECT_EQ(converted.get_uint("tokenizer.ggml.unknown_token_id"), 0u);
    expect_golden_cases(out, fixture);
}

TEST(ConvertVocabulary, MergesAsStringsEqualMergesAsPairs) {
    // The older tokenizer.json form ("left right" strings) gives the same merges as pairs.
    const std::string folder = new_folder("hf_vocab_merge_forms");
    auto write_tokenizer = [&](const std::string &merges) {
        write_text(folder + "/tokenizer.json",
                   "{\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"use_regex\":true},\"model\":{\"type\":\"BPE\","
                   "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u0120\":3,\"\\u0120a\":4},\"merges\":" + merges + "}}");
    };
    write_text(folder + "/config.json", config_json("LlamaForCausalLM", 5, 0, 1));
    write_tokenizer("[\"a b\",\"\\u0120 a\"]");
    convert_vocab(folder, folder + "/strings.gguf");
    write_tokenizer("[[\"a\",\"b\"],[\"\\u0120\",\"a\"]]");
    convert_vocab(folder, folder + "/pairs.gguf");
    const auto strings = bitnet_test::read_file(folder + "/strings.gguf");
    const auto pairs = bitnet_test::read_file(folder + "/pairs.gguf");
    EXPECT_EQ(strings, pairs);
    bitnet::MappedFile mapping = bitnet::MappedFile::open(folder + "/pairs.gguf");
    const auto file = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    const auto merges = *file.get_string_array("tokenizer.ggml.merges");
    ASSERT_EQ(merges.size(), 2u);
    EXPECT_EQ(merges[1], "\xc4\xa0 a");
    EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "gpt-2");
}

// Falcon 3's tokenizer.json pre_tokenizer (tiiuae/Falcon3-*, and the Falcon3-*-1.58bit checkpoints):
// Punctuation(Contiguous), ByteLevel with its regex, Digits(individual_digits). Written the way
// `tokenizers` serializes it.
const char *kFalcon3PreTokenizer =
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Punctuation\",\"behavior\":\"Contiguous\"},"
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
    "{\"type\":\"Digits\",\"individual_digits\":true}]}";

TEST(ConvertVocabulary, Falcon3TokenizerJsonBecomesFalcon3AndTokenizes) {
    // A small vocabulary in the byte-level alphabet (formats.md §4.4: space is U+0120 "Ġ"), with the
    // merges that build "Hello", "Ġworld" and "!!" and none that join digits (Falcon 3 splits them).
    const std::vector<std::string> tokens = {"<|endoftext|>", "H", "e", "l", "o", "\xc4\xa0", "w", "r", "d", "1",
                                             "2", "3", "!", ",", "He", "ll", "Hell", "Hello", "\xc4\xa0w",
                                             "\xc4\xa0wo", "\xc4\xa0wor", "\xc4\xa0worl", "\xc4\xa0world", "!!"};
    std::string vocab;
    for (size_t id = 1; id < tokens.size(); ++id) {
        vocab += (vocab.empty() ? "\"" : ",\"") + tokens[id] + "\":" + std::to_string(id);
    }
    const std::string merges =
        "[\"H e\",\"l l\",\"He ll\",\"Hell o\",\"\xc4\xa0 w\",\"\xc4\xa0w o\",\"\xc4\xa0wo r\",\"\xc4\xa0wor l\","
        "\"\xc4\xa0worl d\",\"! !\"]";
    const std::string folder = new_folder("hf_vocab_falcon3");
    write_text(folder + "/tokenizer.json",
               std::string("{\"added_tokens\":[{\"id\":0,\"content\":\"<|endoftext|>\",\"special\":true}],"
                           "\"normalizer\":null,\"pre_tokenizer\":") + kFalcon3PreTokenizer +
                   ",\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":" + merges + "}}");
    write_text(folder + "/config.json", config_json("LlamaForCausalLM", tokens.size(), 0, 0));
    const std::string out = folder + "/vocab.gguf";
    convert_vocab(folder, out);

    {
        bitnet::MappedFile mapping = bitnet::MappedFile::open(out);
        const auto file = bitnet::gguf::File::parse(mapping.data(), mapping.size());
        EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "falcon3");
        EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "gpt2");
    }
    auto model = tokenizer_test::load_vocab_file(out);
    ASSERT_TRUE(model);
    // "Hello, world 123!!" under the Llama 3 split rules that "falcon3" selects (formats.md §4.3):
    // "Hello" | "," | " world" | " " | "123" | "!!" (a lone space before a digit is its own piece).
    // BPE (§4.5) then gives the whole-word tokens, and "123" falls back to its three digits because
    // no merge joins digits. Falcon 3's own chain (Punctuation, GPT-2 regex, single digits) cuts this
    // text into the same tokens.
    const std::vector<bitnet_token> expected = {17, 13, 22, 5, 9, 10, 11, 23};
    EXPECT_EQ(tokenizer_test::tokenize(model.get(), "Hello, world 123!!"), expected);
    EXPECT_EQ(tokenizer_test::detokenize(model.get(), expected), "Hello, world 123!!");
}

TEST(ConvertVocabulary, UnknownPreTokenizerShapesAreRefusedWithTheirText) {
    const std::string folder = new_folder("hf_vocab_unknown_pre");
    write_text(folder + "/config.json", config_json("LlamaForCausalLM", 5, 0, 1));
    const std::string falcon3 = kFalcon3PreTokenizer;
    auto with_digits = [&](const char *digits) {
        std::string text = falcon3;
        text.replace(text.find("{\"type\":\"Digits\",\"individual_digits\":true}"),
                     std::strlen("{\"type\":\"Digits\",\"individual_digits\":true}"), digits);
        return text;
    };
    const std::string shapes[] = {
        // Falcon (1) (tiiuae/falcon-7b): contiguous digits, then a Split of three-digit groups.
        with_digits("{\"type\":\"Digits\",\"individual_digits\":false},{\"type\":\"Split\",\"pattern\":"
                    "{\"Regex\":\"[0-9][0-9][0-9]\"},\"behavior\":\"Isolated\",\"invert\":false}"),
        with_digits("{\"type\":\"Digits\",\"individual_digits\":false}"),
        // Wrong-typed fields and non-object steps: still the message, never a JSON type error.
        with_digits("{\"type\":\"Digits\",\"individual_digits\":\"yes\"}"),
        "{\"type\":\"Sequence\",\"pretokenizers\":[1,2,3]}",
        "{\"type\":\"Sequence\",\"pretokenizers\":{\"a\":1}}",
        "{\"type\":7}",
        "[\"ByteLevel\"]",
        "\"ByteLevel\"",
    };
    for (const std::string &pre : shapes) {
        write_text(folder + "/tokenizer.json", "{\"pre_tokenizer\":" + pre +
                                                   ",\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}");
        const std::string message = vocab_only_error(folder);
        EXPECT_NE(message.find("tokenizer.json: pre_tokenizer"), std::string::npos) << "pre_tokenizer " << pre << ": " << message;
        EXPECT_NE(message.find("is not one this converter knows"), std::string::npos) << message;
        EXPECT_FALSE(bitnet::convert::file_exists(folder + "/out.gguf"));
    }
}

TEST(ConvertVocabulary, HostileTokenizerFilesGiveMessages) {
    const std::string folder = new_folder("hf_vocab_hostile");
    write_text(folder + "/config.json", config_json("LlamaForCausalLM", 5, 0, 1));
    const std::pair<std::string, std::string> cases[] = {
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}", "not valid JSON"},
        {"[1,2]", "top level is not a JSON object"},
        {"{\"model\":{\"type\":\"Unigram\"}}", "model.type is \"Unigram\""},
        {"{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":7},\"merges\":[]}}",
         "token id 7 is not below config.json vocab_size 5"},
        {"{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}",
         "id 0 is used by both"},
        {"{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"ab\"]}}",
         "model.merges[0] = \"ab\" is not \"left right\""},
        {"{\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
         "is not one this converter knows"},
    };
    for (const auto &[text, needle] : cases) {
        write_text(folder + "/tokenizer.json", text);
        const std::string message = vocab_only_error(folder);
        EXPECT_NE(message.find(needle), std::string::npos) << text << ": " << message;
        EXPECT_NE(message.find("tokenizer.json"), std::string::npos) << message;
    }
    bitnet_test::write_file(folder + "/tokenizer.model", {1, 2, 3, 4, 5});
    const std::string message = vocab_only_error(folder);
    EXPECT_NE(message.find("tokenizer.model: libsentencepiece cannot load it"), std::string::npos) << message;
}

}  // namespace
