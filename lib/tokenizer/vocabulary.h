// The model's vocabulary and tokenizer, loaded from GGUF tokenizer metadata (formats.md §4):
// token texts, types and scores, the special tokens, and the tokenizer model (byte-level BPE with
// the Llama 3 or GPT-2 pre-tokenizer, or SentencePiece). Immutable after load; every method is
// safe to call from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "tokenizer/encoder.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/token_maps.h"

namespace bitnet {

enum class TokenizerModel {
    BytePairEncoding,  // "gpt2": byte-level BPE with ranked merges
    SentencePiece,     // "llama": score-ordered merges with <0xXX> byte fallback
};

class Vocabulary {
public:
    // Returns null when the file carries no tokenizer (no tokenizer.ggml.tokens, or model "none").
    // Throws Error: BITNET_ERR_INVALID_MODEL for malformed metadata, BITNET_ERR_UNSUPPORTED for a
    // tokenizer model or pre-tokenizer this engine does not implement (the message names it).
    static std::unique_ptr<Vocabulary> load(const gguf::File &file);
    ~Vocabulary();

    int32_t n_tokens() const { return static_cast<int32_t>(types_.size()); }
    bool valid(bitnet_token token) const { return token >= 0 && token < n_tokens(); }

    TokenizerModel model() const { return model_; }
    // The pre-tokenizer of a BPE vocabulary (meaningless for SentencePiece).
    PreTokenizer pre_tokenizer() const { return pre_tokenizer_; }
    // For logs: "gpt2 (byte-level BPE, llama3 pre-tokenizer)", "llama (SentencePiece)".
    std::string describe() const;

    bitnet_token bos() const { return bos_; }
    bitnet_token eos() const { return eos_; }
    bitnet_token eot() const { return eot_; }
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    // SentencePiece puts a space in front of the text; detokenization takes it off again.
    bool adds_space_prefix() const { return model_ == TokenizerModel::SentencePiece && add_space_prefix_; }
    bool is_eog(bitnet_token token) const;

    // The token's text as stored in the file (NUL-terminated). The token must be valid.
    std::string_view text(bitnet_token token) const {
        return std::string_view(texts_.data() + text_offsets_[token], text_offsets_[token + 1] - text_offsets_[token] - 1);
    }
    const char *text_c_str(bitnet_token token) const { return texts_.data() + text_offsets_[token]; }
    bitnet_token_type type(bitnet_token token) const { return static_cast<bitnet_token_type>(types_[token]); }
    // Control, unknown and user-defined tokens: matched as whole units in text, and a
    // SentencePiece text restarts after them.
    bool is_special(bitnet_token token) const;

    // The id of a token by its stored text, or BITNET_TOKEN_NULL.
    bitnet_token find(std::string_view text) const { return token_of_text_.find(text); }

    // The bytes a token stands for. Control and unused tokens give their text only with
    // `render_special` (else ""); an unknown token gives its text with `render_special`, else
    // U+FFFD. The token must be valid.
    std::string_view piece(bitnet_token token, bool render_special) const;

    // Append the tokens of `text` (any bytes; see bitnet_tokenize).
    void tokenize(std::string_view text, bool add_special, bool parse_special, std::vector<bitnet_token> &out) const;

private:
    Vocabulary() = default;
    void load_tokens(const gguf::File &file);
    void load_special_ids(const gguf::File &file);
    void choose_pre_tokenizer(const gguf::File &file);
    std::vector<bool> build_pieces();  // returns which tokens are clean byte-level text
    void build_bpe_encoder(const gguf::File &file, const std::vector<bool> &byte_level_clean);
    void build_spm_encoder();
    void build_special_matcher();

    TokenizerModel model_ = TokenizerModel::BytePairEncoding;
    PreTokenizer pre_tokenizer_ = PreTokenizer::Llama3;
    bool llama3_vocabulary_ = false;

    std::string texts_;                  // every token's text, each followed by a NUL
    std::vector<uint32_t> text_offsets_;  // n_tokens + 1 entries
    std::vector<uint8_t> types_;
    std::vector<float> scores_;          // empty when the file has none
    std::string pieces_;                 // every token's bytes (decoded text)
    std::vector<uint32_t> piece_offsets_;
    TextToToken token_of_text_;

    bitnet_token bos_ = BITNET_TOKEN_NULL;
    bitnet_token eos_ = BITNET_TOKEN_NULL;
    bitnet_token eot_ = BITNET_TOKEN_NULL;
    bitnet_token eom_ = BITNET_TOKEN_NULL;
    bitnet_token unknown_ = BITNET_TOKEN_NULL;
    std::vector<bitnet_token> eog_;
    bool add_bos_ = false;
    bool add_eos_ = false;
    bool add_space_prefix_ = true;

    SpecialTokenMatcher special_matcher_;
    std::unique_ptr<Encoder> encoder_;
};

}  // namespace bitnet
