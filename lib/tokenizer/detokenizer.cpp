#include "tokenizer/detokenizer.h"

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace bitnet {

void PieceJoiner::append(bitnet_token token, std::string &out) {
    if (!vocab_->valid(token)) {
        fail(BITNET_ERR_INVALID_INPUT, "token id %d is outside the vocabulary (0..%d)", token, vocab_->n_tokens() - 1);
    }
    std::string_view piece = vocab_->piece(token, render_special_);
    if (vocab_->is_special(token)) {
        out.append(piece);
        at_text_start_ = true;  // the tokenizer puts a space prefix after a special token
        return;
    }
    if (piece.empty()) return;
    if (at_text_start_ && vocab_->adds_space_prefix() && piece.front() == ' ') piece.remove_prefix(1);
    out.append(piece);
    at_text_start_ = false;
}

std::string detokenize(const Vocabulary &vocab, std::span<const bitnet_token> tokens, bool remove_special,
                       bool render_special) {
    if (remove_special && !tokens.empty() && vocab.bos() != BITNET_TOKEN_NULL && tokens.front() == vocab.bos()) {
        tokens = tokens.subspan(1);
    }
    if (remove_special && !tokens.empty() && vocab.eos() != BITNET_TOKEN_NULL && tokens.back() == vocab.eos()) {
        tokens = tokens.first(tokens.size() - 1);
    }
    std::string text;
    PieceJoiner joiner(vocab, render_special);
    for (bitnet_token token : tokens) joiner.append(token, text);
    return text;
}

void append_valid_utf8(std::string_view bytes, std::string &out) {
    const auto *data = reinterpret_cast<const uint8_t *>(bytes.data());
    for (size_t pos = 0; pos < bytes.size();) {
        utf8::Unit unit = utf8::decode(data + pos, bytes.size() - pos);
        if (unit.code_point == utf8::kInvalid) {
            out.append("\xEF\xBF\xBD");
        } else {
            out.append(bytes.substr(pos, unit.length));
        }
        pos += unit.length;
    }
}

StreamingDetokenizer::Step StreamingDetokenizer::push(bitnet_token token) const {
    std::string bytes = held_;
    PieceJoiner joiner(*vocab_, render_special_);
    joiner.set_at_text_start(at_text_start_);
    joiner.append(token, bytes);

    Step step;
    size_t keep = utf8::incomplete_tail(bytes);
    append_valid_utf8(std::string_view(bytes).substr(0, bytes.size() - keep), step.text);
    step.held = bytes.substr(bytes.size() - keep);
    step.at_text_start = joiner.at_text_start();
    return step;
}

StreamingDetokenizer::Step StreamingDetokenizer::flush() const {
    Step step;
    for (size_t i = 0; i < held_.size(); ++i) step.text.append("\xEF\xBF\xBD");
    return step;
}

void StreamingDetokenizer::commit(Step step) {
    held_ = std::move(step.held);
    at_text_start_ = step.at_text_start;
}

}  // namespace bitnet
