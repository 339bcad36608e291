#include "tokenizer/pretokenize.h"

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace bitnet {

const char *pre_tokenizer_name(PreTokenizer kind) {
    switch (kind) {
    case PreTokenizer::Llama3: return "llama3";
    case PreTokenizer::Gpt2: return "gpt2";
    }
    return "?";
}

void CodeUnits::decode(std::string_view text) {
    code_points.clear();
    flags.clear();
    offsets.clear();
    code_points.reserve(text.size() + 1);
    flags.reserve(text.size() + 1);
    offsets.reserve(text.size() + 1);
    const auto *bytes = reinterpret_cast<const uint8_t *>(text.data());
    for (size_t pos = 0; pos < text.size();) {
        utf8::Unit unit = utf8::decode(bytes + pos, text.size() - pos);
        code_points.push_back(unit.code_point);
        flags.push_back(unit.code_point == utf8::kInvalid ? uint8_t(unicode::kOther) : unicode::flags(unit.code_point));
        offsets.push_back(static_cast<uint32_t>(pos));
        pos += unit.length;
    }
    code_points.push_back(utf8::kInvalid);
    flags.push_back(kEndOfText);
    offsets.push_back(static_cast<uint32_t>(text.size()));
}

void split_words(PreTokenizer kind, const CodeUnits &units, std::vector<uint32_t> &word_ends) {
    switch (kind) {
    case PreTokenizer::Llama3: split_words_llama3(units, word_ends); return;
    case PreTokenizer::Gpt2: split_words_gpt2(units, word_ends); return;
    }
}

}  // namespace bitnet
