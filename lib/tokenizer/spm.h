// SentencePiece BPE (tokenizer.ggml.model = llama: Llama 2, 1bitLLM, llama2.c vocabularies).
// Spaces become the vocabulary's space symbol (U+2581, or a plain space in llama2.c-derived
// vocabularies), a space is put in front of the text, then adjacent pieces are merged while their
// concatenation is a token, highest score first, leftmost on ties. Pieces that are not tokens
// fall back to <0xXX> byte tokens.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/encoder.h"
#include "tokenizer/token_maps.h"

namespace bitnet {

struct SpmTables {
    TextToToken pieces;                           // texts merges may produce: normal and user-defined tokens
    std::vector<float> scores;                    // per token id
    std::array<bitnet_token, 256> byte_tokens{};  // <0xXX> per byte, or NULL
    bitnet_token unknown = BITNET_TOKEN_NULL;     // for a byte without a byte token
    std::string space_symbol;                     // "\xE2\x96\x81" (U+2581) or " "
    bool add_space_prefix = true;
    // No piece joins a character to a following space symbol, so merges never cross the start of
    // a run of spaces and each word can be merged on its own (same result, much faster).
    bool words_are_independent = false;
};

// Whether no piece contains the space symbol right after another character (the condition for
// SpmTables::words_are_independent).
bool spm_words_are_independent(const std::vector<std::string_view> &pieces, std::string_view space_symbol);

class SpmEncoder final : public Encoder {
public:
    explicit SpmEncoder(SpmTables tables) : tables_(std::move(tables)) {}

    void encode(std::string_view text, bool starts_text, std::vector<bitnet_token> &out) const override;

    const SpmTables &tables() const { return tables_; }

private:
    void encode_word(std::string_view word, std::vector<bitnet_token> &out) const;
    void merge_short(std::string_view word, std::vector<uint32_t> &lengths) const;
    void merge_long(std::string_view word, std::vector<uint32_t> &lengths) const;

    SpmTables tables_;
};

}  // namespace bitnet
