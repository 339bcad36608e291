// Helpers shared by the tokenizer tests: loading vocabulary fixtures through the C API, the
// golden-vector file format, and an in-memory GGUF with the official 2B-4T tokenizer key set.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "support/test_support.h"

namespace tokenizer_test {

struct ModelDeleter {
    void operator()(bitnet_model *model) const { bitnet_model_free(model); }
};
using ModelPtr = std::unique_ptr<bitnet_model, ModelDeleter>;

inline ModelPtr load_vocab_file(const std::string &path) {
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_file(path.c_str(), &params, &model);
    EXPECT_EQ(status, BITNET_OK) << bitnet_last_error();
    return ModelPtr(model);
}

// A file image kept alive beside the model made from it (load_memory does not copy).
struct MemoryModel {
    std::vector<uint8_t> image;
    ModelPtr model;
};

inline std::unique_ptr<MemoryModel> load_vocab_memory(std::vector<uint8_t> image) {
    auto loaded = std::make_unique<MemoryModel>();
    loaded->image = std::move(image);
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_memory(loaded->image.data(), loaded->image.size(), &params, &model);
    EXPECT_EQ(status, BITNET_OK) << bitnet_last_error();
    loaded->model.reset(model);
    return loaded;
}

inline std::vector<bitnet_token> tokenize(const bitnet_model *model, std::string_view text, bool add_special = false,
                                          bool parse_special = false) {
    std::vector<bitnet_token> tokens(text.size() + 8);
    int32_t count = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                    static_cast<int32_t>(tokens.size()), add_special, parse_special);
    if (count < 0 && count != BITNET_COUNT_ERROR) {
        tokens.resize(static_cast<size_t>(-count));
        count = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                static_cast<int32_t>(tokens.size()), add_special, parse_special);
    }
    EXPECT_GE(count, 0) << bitnet_last_error();
    tokens.resize(count > 0 ? static_cast<size_t>(count) : 0);
    return tokens;
}

inline std::string detokenize(const bitnet_model *model, const std::vector<bitnet_token> &tokens,
                              bool remove_special = false, bool render_special = false) {
    int32_t needed = bitnet_detokenize(model, tokens.data(), static_cast<int32_t>(tokens.size()), nullptr, 0,
                                       remove_special, render_special);
    EXPECT_NE(needed, BITNET_COUNT_ERROR) << bitnet_last_error();
    std::string text(needed < 0 ? static_cast<size_t>(-needed) : 0, '\0');
    int32_t written = bitnet_detokenize(model, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                                        static_cast<int32_t>(text.size()), remove_special, render_special);
    EXPECT_EQ(written, static_cast<int32_t>(text.size())) << bitnet_last_error();
    return text;
}

// The golden vectors of llama.cpp's test-tokenizer-0 (fixtures/README.md): `.inp` holds cases
// each followed by "\n__ggml_vocab_test__\n"; `.out` one line of " id" entries per case.
struct GoldenCase {
    std::string text;
    std::vector<bitnet_token> expected;
};

inline std::vector<GoldenCase> read_golden(const std::string &vocab_path) {
    std::vector<uint8_t> input = bitnet_test::read_file(vocab_path + ".inp");
    std::vector<uint8_t> output = bitnet_test::read_file(vocab_path + ".out");
    std::string inputs(input.begin(), input.end());
    std::string outputs(output.begin(), output.end());
    const std::string separator = "\n__ggml_vocab_test__\n";

    std::vector<GoldenCase> cases;
    for (size_t pos = 0;;) {
        size_t end = inputs.find(separator, pos);
        if (end == std::string::npos) break;
        cases.push_back({inputs.substr(pos, end - pos), {}});
        pos = end + separator.size();
    }
    size_t line_start = 0;
    for (GoldenCase &golden : cases) {
        size_t line_end = outputs.find('\n', line_start);
        if (line_end == std::string::npos) line_end = outputs.size();
        std::string line = outputs.substr(line_start, line_end - line_start);
        line_start = line_end + 1;
        for (size_t pos = 0; pos < line.size();) {
            size_t next = line.find(' ', pos);
            if (next == std::string::npos) next = line.size();
            if (next > pos) golden.expected.push_back(std::stoi(line.substr(pos, next - pos)));
            pos = next + 1;
        }
    }
    return cases;
}

// The tokenizer keys of the official bitnet-b1.58-2B-4T GGUF (formats.md §2.9), in its order,
// with the tokens, types and merges taken from the Llama 3 fixture; no tokenizer.ggml.pre.
inline std::vector<uint8_t> official_2b4t_vocab_image(const bitnet::gguf::File &llama3, bool with_pre) {
    bitnet::gguf::Writer writer;
    writer.set_string("general.architecture", "bitnet-b1.58");
    writer.set_string("general.name", "bitnet2b");
    writer.set_u32("bitnet-b1.58.vocab_size", 128256);
    writer.set_u32("bitnet-b1.58.context_length", 4096);
    writer.set_u32("bitnet-b1.58.embedding_length", 2560);
    writer.set_u32("bitnet-b1.58.block_count", 30);
    writer.set_u32("bitnet-b1.58.feed_forward_length", 6912);
    writer.set_u32("bitnet-b1.58.rope.dimension_count", 128);
    writer.set_u32("bitnet-b1.58.attention.head_count", 20);
    writer.set_u32("bitnet-b1.58.attention.head_count_kv", 5);
    writer.set_bool("tokenizer.ggml.add_bos_token", true);
    writer.set_f32("bitnet-b1.58.attention.layer_norm_rms_epsilon", 1e-5f);
    writer.set_f32("bitnet-b1.58.rope.freq_base", 500000.0f);
    writer.set_u32("general.file_type", 40);
    writer.set_string("tokenizer.ggml.model", "gpt2");
    if (with_pre) writer.set_string("tokenizer.ggml.pre", "llama-bpe");
    for (const char *key : {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}) {
        const bitnet::gguf::MetadataEntry *entry = llama3.find(key);
        EXPECT_NE(entry, nullptr) << key;
        if (entry) writer.copy_value(key, llama3, entry->value);
    }
    // The producing script writes score 0 for base tokens and -1000 for the added ones.
    std::vector<float> scores(128256, 0.0f);
    for (size_t i = 128000; i < scores.size(); ++i) scores[i] = -1000.0f;
    writer.set_f32_array("tokenizer.ggml.scores", scores);
    writer.set_u32("tokenizer.ggml.padding_token_id", 128001);
    writer.set_string("tokenizer.chat_template",
                      "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
                      "{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}"
                      "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}");
    writer.set_u32("general.quantization_version", 2);
    return writer.write_to_memory();
}

}  // namespace tokenizer_test
