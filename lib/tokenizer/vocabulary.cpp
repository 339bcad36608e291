#include "tokenizer/vocabulary.h"

#include <algorithm>
#include <cstdint>

#include "util/error.h"

namespace bitnet {

Vocabulary::~Vocabulary() = default;

std::string Vocabulary::describe() const {
    if (model_ == TokenizerModel::SentencePiece) return "llama (SentencePiece)";
    return std::string("gpt2 (byte-level BPE, ") + pre_tokenizer_name(pre_tokenizer_) + " pre-tokenizer)";
}

bool Vocabulary::is_eog(bitnet_token token) const {
    return std::find(eog_.begin(), eog_.end(), token) != eog_.end();
}

bool Vocabulary::is_special(bitnet_token token) const {
    uint8_t type = types_[token];
    return type == BITNET_TOKEN_TYPE_CONTROL || type == BITNET_TOKEN_TYPE_UNKNOWN || type == BITNET_TOKEN_TYPE_USER_DEFINED;
}

std::string_view Vocabulary::piece(bitnet_token token, bool render_special) const {
    switch (types_[token]) {
    case BITNET_TOKEN_TYPE_CONTROL:
    case BITNET_TOKEN_TYPE_UNUSED:
        return render_special ? text(token) : std::string_view();
    case BITNET_TOKEN_TYPE_UNKNOWN:
        return render_special ? text(token) : std::string_view("\xEF\xBF\xBD");  // U+FFFD
    default:
        return std::string_view(pieces_.data() + piece_offsets_[token], piece_offsets_[token + 1] - piece_offsets_[token]);
    }
}

void Vocabulary::tokenize(std::string_view text, bool add_special, bool parse_special,
                          std::vector<bitnet_token> &out) const {
    if (text.size() > UINT32_MAX) fail(BITNET_ERR_INVALID_ARGUMENT, "tokenize: the text is larger than 4 GiB");
    if (add_special && add_bos_) out.push_back(bos_);
    std::vector<SpecialTokenMatcher::Fragment> fragments;
    special_matcher_.partition(text, parse_special, fragments);
    bool starts_text = true;
    for (const SpecialTokenMatcher::Fragment &fragment : fragments) {
        if (fragment.token != BITNET_TOKEN_NULL) {
            out.push_back(fragment.token);
            starts_text = true;
        } else {
            encoder_->encode(text.substr(fragment.offset, fragment.length), starts_text, out);
            starts_text = false;
        }
    }
    if (add_special && add_eos_) out.push_back(eos_);
}

}  // namespace bitnet
