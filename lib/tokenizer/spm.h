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
};

class SpmEncoder final : public Encoder {
public:
    explicit SpmEncoder(SpmTables tables) : tables_(std::move(tables)) {}

    void encode(std::string_view text, bool starts_text, std::vector<bitnet_token> &out) const override;

    const SpmTables &tables() const { return tables_; }

private:
    void encode_escaped(std::string_view text, std::vector<bitnet_token> &out) const;

    SpmTables tables_;
};

}  // namespace bitnet
