// Byte-level BPE (tokenizer.ggml.model = gpt2): pre-tokenize, then merge each word's bytes by
// merge rank. Merges live in a hash table keyed by the (left, right) token pair, so a lookup is
// one probe; the lowest rank merges first and ties go to the leftmost pair (formats.md §4.5).
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "tokenizer/encoder.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/token_maps.h"

namespace bitnet {

struct BpeTables {
    std::array<bitnet_token, 256> byte_tokens{};  // the token spelling each single byte, or NULL
    PairToMerge merges;
    TextToToken whole_words;  // a word's bytes -> ordinary token, for ignore_merges
};

// Fill `merges` from tokenizer.ggml.merges ("left right" in the byte-level alphabet; the split is
// at the first space after the first byte). A merge whose parts or result are not tokens can
// never apply and is skipped; returns how many were. Throws Error for an entry without a space.
size_t build_bpe_merges(const std::vector<std::string_view> &merge_texts, const TextToToken &token_of_text,
                        PairToMerge &merges);

class BpeEncoder final : public Encoder {
public:
    // `ignore_merges`: a word that is itself a token is emitted whole (Llama 3).
    BpeEncoder(PreTokenizer pre_tokenizer, bool ignore_merges, BpeTables tables)
        : pre_tokenizer_(pre_tokenizer), ignore_merges_(ignore_merges), tables_(std::move(tables)) {}

    void encode(std::string_view text, bool starts_text, std::vector<bitnet_token> &out) const override;

    PreTokenizer pre_tokenizer() const { return pre_tokenizer_; }
    bool ignore_merges() const { return ignore_merges_; }

private:
    struct Scratch;
    void encode_word(std::string_view word, std::vector<bitnet_token> &out, Scratch &scratch) const;
    void merge_short(Scratch &scratch) const;
    void merge_long(Scratch &scratch) const;

    PreTokenizer pre_tokenizer_;
    bool ignore_merges_;
    BpeTables tables_;
};

}  // namespace bitnet
