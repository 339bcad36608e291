// Tokens back to text. Pieces are joined as they are, with one rule for SentencePiece
// vocabularies: the space the tokenizer puts in front of a text (at the start, and after each
// special token) is taken off again, so detokenize(tokenize(s)) == s for both tokenizer models.
#pragma once

#include <span>
#include <string>

#include "bitnet.h"
#include "tokenizer/vocabulary.h"

namespace bitnet {

// Appends token pieces one at a time, applying the space-prefix rule.
class PieceJoiner {
public:
    PieceJoiner(const Vocabulary &vocab, bool render_special) : vocab_(&vocab), render_special_(render_special) {}

    // Throws Error(BITNET_ERR_INVALID_INPUT) for a token id outside the vocabulary.
    void append(bitnet_token token, std::string &out);

    bool at_text_start() const { return at_text_start_; }
    void set_at_text_start(bool value) { at_text_start_ = value; }

private:
    const Vocabulary *vocab_;
    bool render_special_;
    bool at_text_start_ = true;
};

// The bytes of a token sequence. `remove_special` drops a leading BOS and a trailing EOS.
// Invalid UTF-8 that the tokens spell (byte tokens) is returned as it is.
std::string detokenize(const Vocabulary &vocab, std::span<const bitnet_token> tokens, bool remove_special,
                       bool render_special);

// Append `bytes` as valid UTF-8: each byte that is not part of a well-formed sequence becomes U+FFFD.
void append_valid_utf8(std::string_view bytes, std::string &out);

// Detokenization one token at a time that only ever emits complete, valid UTF-8: the bytes of a
// character split across tokens are held back until it completes. A step is computed without
// changing the detokenizer and applied with commit(), so a caller can retry with a larger buffer.
class StreamingDetokenizer {
public:
    struct Step {
        std::string text;      // what to emit
        std::string held;      // the state after the step
        bool at_text_start = true;
    };

    StreamingDetokenizer(const Vocabulary &vocab, bool render_special) : vocab_(&vocab), render_special_(render_special) {}

    Step push(bitnet_token token) const;
    // Everything held back (each byte as U+FFFD, since it can no longer complete) and a fresh state.
    Step flush() const;
    void commit(Step step);

private:
    const Vocabulary *vocab_;
    bool render_special_;
    std::string held_;
    bool at_text_start_ = true;
};

}  // namespace bitnet
