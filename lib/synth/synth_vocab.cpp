#include "synth/synth_vocab.h"

#include <string_view>

#include "util/error.h"

namespace bitnet {
namespace {

constexpr int32_t kTokenNormal = 1;
constexpr int32_t kTokenControl = 3;

// GPT-2 bytes_to_unicode (formats.md §4.4): printable bytes map to themselves, the other 68 to
// U+0100 upwards in byte order.
std::vector<std::string> byte_level_alphabet() {
    std::vector<std::string> out(256);
    uint32_t next_extra = 0x100;
    for (uint32_t byte = 0; byte < 256; ++byte) {
        bool printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae);
        uint32_t code_point = printable ? byte : next_extra++;
        std::string utf8;
        if (code_point < 0x80) {
            utf8 += static_cast<char>(code_point);
        } else {
            utf8 += static_cast<char>(0xc0 | (code_point >> 6));
            utf8 += static_cast<char>(0x80 | (code_point & 0x3f));
        }
        out[byte] = utf8;
    }
    return out;
}

// The chat template string is only partly known from the official file's dump (formats.md §2.9):
// it carries 'Human: ' ... '\n\nBITNETAssistant: ', which is what engines key on.
const char *const kBitnetChatTemplate =
    "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

const char *const kOfficialKeys[] = {
    "tokenizer.ggml.model",        "tokenizer.ggml.tokens",       "tokenizer.ggml.scores",
    "tokenizer.ggml.token_type",   "tokenizer.ggml.merges",       "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.chat_template",
};

bool is_official_key(std::string_view key) {
    if (key == "tokenizer.ggml.add_bos_token") return true;
    for (const char *official : kOfficialKeys) {
        if (key == official) return true;
    }
    return false;
}

}  // namespace

SynthVocabulary make_synth_vocabulary(const gguf::File *source, int32_t n_tokens) {
    SynthVocabulary vocab;
    vocab.source = source;
    if (source) {
        const gguf::MetadataEntry *tokens = source->find("tokenizer.ggml.tokens");
        if (!tokens || tokens->value.type != gguf::ValueType::ARRAY ||
            tokens->value.element_type != gguf::ValueType::STRING || tokens->value.count == 0) {
            fail(BITNET_ERR_INVALID_MODEL, "synth: the vocabulary file has no tokenizer.ggml.tokens string array");
        }
        vocab.n_tokens = tokens->value.count;
        vocab.bos = static_cast<int32_t>(source->get_uint("tokenizer.ggml.bos_token_id").value_or(0));
        vocab.eos = static_cast<int32_t>(source->get_uint("tokenizer.ggml.eos_token_id").value_or(0));
        if (auto types = source->get_i32_array("tokenizer.ggml.token_type")) {
            vocab.token_types = std::move(*types);
        } else {
            vocab.token_types.assign(vocab.n_tokens, kTokenNormal);
        }
        return vocab;
    }
    vocab.tokens = byte_level_alphabet();
    vocab.token_types.assign(256, kTokenNormal);
    for (const char *special : {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"}) {
        vocab.tokens.push_back(special);
        vocab.token_types.push_back(kTokenControl);
    }
    for (int32_t reserved = 0; static_cast<int32_t>(vocab.tokens.size()) < n_tokens; ++reserved) {
        vocab.tokens.push_back("<|reserved_special_token_" + std::to_string(reserved) + "|>");
        vocab.token_types.push_back(kTokenControl);
    }
    vocab.n_tokens = vocab.tokens.size();
    vocab.bos = 256;
    vocab.eos = 257;
    return vocab;
}

void write_vocabulary_flag_keys(gguf::Writer &writer, const SynthVocabulary &vocab) {
    const gguf::MetadataEntry *entry = vocab.source ? vocab.source->find("tokenizer.ggml.add_bos_token") : nullptr;
    if (entry) {
        writer.copy_value(entry->key, *vocab.source, entry->value);
    } else {
        writer.set_bool("tokenizer.ggml.add_bos_token", true);
    }
}

void write_vocabulary_keys(gguf::Writer &writer, const SynthVocabulary &vocab, bool official_layout) {
    const gguf::File *source = vocab.source;
    auto copy_if_present = [&](const char *key) {
        const gguf::MetadataEntry *entry = source ? source->find(key) : nullptr;
        if (entry) writer.copy_value(key, *source, entry->value);
        return entry != nullptr;
    };
    if (!copy_if_present("tokenizer.ggml.model")) writer.set_string("tokenizer.ggml.model", "gpt2");
    if (!copy_if_present("tokenizer.ggml.tokens")) writer.set_string_array("tokenizer.ggml.tokens", vocab.tokens);
    if (!copy_if_present("tokenizer.ggml.scores")) {
        // The producing script writes 0 for ordinary tokens and -1000 for control ones (§2.9).
        std::vector<float> scores(vocab.n_tokens);
        for (uint64_t i = 0; i < vocab.n_tokens; ++i) {
            scores[i] = i < vocab.token_types.size() && vocab.token_types[i] == kTokenControl ? -1000.0f : 0.0f;
        }
        writer.set_f32_array("tokenizer.ggml.scores", scores);
    }
    if (!copy_if_present("tokenizer.ggml.token_type")) writer.set_i32_array("tokenizer.ggml.token_type", vocab.token_types);
    if (!copy_if_present("tokenizer.ggml.merges")) {
        std::string model = "gpt2";
        if (source) model = std::string(source->get_string("tokenizer.ggml.model").value_or("gpt2"));
        if (model == "gpt2") writer.set_string_array("tokenizer.ggml.merges", {});
    }
    if (!copy_if_present("tokenizer.ggml.bos_token_id")) writer.set_u32("tokenizer.ggml.bos_token_id", vocab.bos);
    if (!copy_if_present("tokenizer.ggml.eos_token_id")) writer.set_u32("tokenizer.ggml.eos_token_id", vocab.eos);
    if (!copy_if_present("tokenizer.ggml.padding_token_id")) {
        writer.set_u32("tokenizer.ggml.padding_token_id", vocab.eos);
    }
    if (!copy_if_present("tokenizer.chat_template")) writer.set_string("tokenizer.chat_template", kBitnetChatTemplate);
    if (!source) return;
    for (const gguf::MetadataEntry &entry : source->metadata()) {
        if (entry.key.rfind("tokenizer.", 0) != 0 || is_official_key(entry.key)) continue;
        if (official_layout && entry.key == "tokenizer.ggml.pre") continue;
        writer.copy_value(entry.key, *source, entry.value);
    }
}

}  // namespace bitnet
