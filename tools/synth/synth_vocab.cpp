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

constexpr int32_t kLlama3VocabularySize = 128256;
constexpr int32_t kLlama3BaseTokens = 128000;

// Text of Llama 3 special token 128000 + i (formats.md §4.2).
std::string llama3_special_text(int32_t i) {
    switch (i) {
        case 0: return "<|begin_of_text|>";
        case 1: return "<|end_of_text|>";
        case 6: return "<|start_header_id|>";
        case 7: return "<|end_header_id|>";
        case 9: return "<|eot_id|>";
        default: break;
    }
    // Reserved 0-3 at 2-5, 4 at 8, 5-250 from 10 on.
    const int32_t reserved = i < 6 ? i - 2 : i == 8 ? 4 : i - 5;
    return "<|reserved_special_token_" + std::to_string(reserved) + "|>";
}

// Filler word k: a pseudo-word of consonant-vowel syllables, every other one with a leading space
// (byte-level 'Ġ' = U+0120), so that decoded noise reads as words. Words are enumerated by
// syllable count (100 of one syllable, 10000 of two, ...), so each k has its own text, and none is
// a single character (the byte tokens) or a special token.
std::string filler_word(uint64_t k) {
    static const char kConsonants[] = "bcdfghjklmnprstvwxyz";  // 20
    static const char kVowels[] = "aeiou";                   // 5
    std::string out = k % 2 == 0 ? "\xC4\xA0" : "";
    uint64_t n = k / 2, count = 100;
    int syllables = 1;
    while (n >= count) {
        n -= count;
        count *= 100;
        ++syllables;
    }
    for (int s = 0; s < syllables; ++s, n /= 100) {
        const uint64_t syllable = n % 100;
        out += kConsonants[syllable / 5];
        out += kVowels[syllable % 5];
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
    // Byte tokens first (ids 0-255 in byte order), then the specials, then normal filler words up
    // to n_tokens, so that random-weight generation prints visible (noise) text.
    vocab.tokens = byte_level_alphabet();
    vocab.token_types.assign(256, kTokenNormal);
    uint64_t n_filler = 0;
    auto add_filler_up_to = [&](uint64_t end) {
        while (vocab.tokens.size() < end) {
            vocab.tokens.push_back(filler_word(n_filler++));
            vocab.token_types.push_back(kTokenNormal);
        }
    };
    auto add_control = [&](std::string text) {
        vocab.tokens.push_back(std::move(text));
        vocab.token_types.push_back(kTokenControl);
    };
    if (n_tokens >= kLlama3VocabularySize) {
        // The 2B-4T (Llama 3) layout, formats.md §4.2: 128000 base tokens, then 256 specials.
        add_filler_up_to(kLlama3BaseTokens);
        for (int32_t i = 0; i < 256; ++i) add_control(llama3_special_text(i));
        vocab.bos = kLlama3BaseTokens;      // <|begin_of_text|>
        vocab.eos = kLlama3BaseTokens + 1;  // <|end_of_text|>
    } else {
        for (const char *special : {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"}) add_control(special);
        vocab.bos = 256;
        vocab.eos = 257;
    }
    add_filler_up_to(n_tokens > 0 ? static_cast<uint64_t>(n_tokens) : 0);
    vocab.n_tokens = vocab.tokens.size();
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
