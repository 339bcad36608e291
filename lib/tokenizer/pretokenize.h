// Pre-tokenizers of byte-level BPE vocabularies: split text into the words that BPE then encodes
// one at a time. Hand-written equivalents of the regular expressions the models were trained with
// (formats.md §4.3), running on the generated Unicode tables.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace bitnet {

enum class PreTokenizer {
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3,
    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Gpt2,
};

const char *pre_tokenizer_name(PreTokenizer kind);

// The text decoded once into units: one per code point, and one per byte that is not part of a
// well-formed UTF-8 sequence (such a byte counts as neither letter, number nor space, like a
// symbol). A sentinel unit with kEndOfText flags follows the last one.
struct CodeUnits {
    static constexpr uint8_t kEndOfText = 0x80;  // flags of the sentinel: no class, no property

    std::vector<uint32_t> code_points;  // utf8::kInvalid for an invalid byte
    std::vector<uint8_t> flags;         // unicode::flags(), kOther for an invalid byte
    std::vector<uint32_t> offsets;      // byte offset of each unit; offsets[size()] = text size

    void decode(std::string_view text);
    size_t size() const { return code_points.size() - 1; }
};

// Append the end offset (in bytes) of every word of `units`, in order; the last one is the text
// size. An empty text has no words.
void split_words(PreTokenizer kind, const CodeUnits &units, std::vector<uint32_t> &word_ends);

void split_words_llama3(const CodeUnits &units, std::vector<uint32_t> &word_ends);
void split_words_gpt2(const CodeUnits &units, std::vector<uint32_t> &word_ends);

}  // namespace bitnet
