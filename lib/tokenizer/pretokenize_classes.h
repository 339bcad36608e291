// Character classes shared by the hand-written pre-tokenizers, on CodeUnits flag bytes.
#pragma once

#include <cstdint>

#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace bitnet::pretokenize {

inline bool is_letter(uint8_t flags) { return (flags & unicode::kClassMask) == unicode::kLetter && !(flags & CodeUnits::kEndOfText); }
inline bool is_number(uint8_t flags) { return (flags & unicode::kClassMask) == unicode::kNumber && !(flags & CodeUnits::kEndOfText); }
inline bool is_space(uint8_t flags) { return (flags & unicode::kWhitespace) != 0; }
// [^\s\p{L}\p{N}]: anything else that is part of the text (the sentinel is not).
inline bool is_other(uint8_t flags) {
    return !(flags & (unicode::kWhitespace | CodeUnits::kEndOfText)) && !is_letter(flags) && !is_number(flags);
}
inline bool is_newline(uint32_t code_point) { return code_point == '\r' || code_point == '\n'; }

// Length of a contraction ('s 't 're 've 'm 'll 'd) starting at `pos`, or 0. `fold` makes the
// letters case-insensitive as the regex (?i:...) is: by simple case folding, so U+017F LONG S
// counts as 's'. (llama.cpp folds ASCII only; the models' own tokenizers follow the regex.)
inline size_t contraction_length(const CodeUnits &units, size_t pos, bool fold) {
    if (units.code_points[pos] != '\'') return 0;
    auto letter = [&](size_t i) {
        uint32_t code_point = units.code_points[i];
        return fold && code_point != utf8::kInvalid ? unicode::fold_to_ascii(code_point) : code_point;
    };
    uint32_t first = letter(pos + 1);  // the sentinel is never a letter, so pos + 2 is in range
    if (first == 's' || first == 't' || first == 'm' || first == 'd') return 2;
    uint32_t second = first == utf8::kInvalid ? 0 : letter(pos + 2);
    if ((first == 'r' && second == 'e') || (first == 'v' && second == 'e') || (first == 'l' && second == 'l')) return 3;
    return 0;
}

}  // namespace bitnet::pretokenize
