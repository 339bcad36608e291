// Unicode properties the pre-tokenizers need: the general category class of a code point
// (\p{L}, \p{N}, ...) and the White_Space property (\s). The tables are generated from the Unicode
// Character Database by generate_unicode_tables.py into unicode_tables.inc.
#pragma once

#include <cstdint>

namespace bitnet::unicode {

// The low three bits of a flag byte: the major general category. Must match the generator.
enum Class : uint8_t {
    kUnassigned = 0,   // Cn, and anything beyond U+10FFFF
    kLetter = 1,       // Lu Ll Lt Lm Lo
    kMark = 2,         // Mn Mc Me
    kNumber = 3,       // Nd Nl No
    kPunctuation = 4,  // Pc Pd Ps Pe Pi Pf Po
    kSymbol = 5,       // Sm Sc Sk So
    kSeparator = 6,    // Zs Zl Zp
    kOther = 7,        // Cc Cf Cs Co
};
inline constexpr uint8_t kClassMask = 0x07;
inline constexpr uint8_t kWhitespace = 0x08;  // the White_Space property

namespace detail {
inline constexpr int kBlockShift = 7;
extern const uint16_t stage1[];
extern const uint8_t stage2[][1 << kBlockShift];
}  // namespace detail

// The ASCII letter a code point case-folds to (simple folding: 'S' -> 's', U+017F LONG S -> 's',
// U+212A KELVIN SIGN -> 'k'); other code points are returned unchanged.
uint32_t fold_to_ascii(uint32_t code_point);

// Flag byte of a code point: class | (kWhitespace if White_Space).
inline uint8_t flags(uint32_t code_point) {
    if (code_point >= 0x110000) return kUnassigned;
    return detail::stage2[detail::stage1[code_point >> detail::kBlockShift]]
                         [code_point & ((1u << detail::kBlockShift) - 1)];
}

inline bool is_letter(uint32_t code_point) { return (flags(code_point) & kClassMask) == kLetter; }
inline bool is_number(uint32_t code_point) { return (flags(code_point) & kClassMask) == kNumber; }
inline bool is_whitespace(uint32_t code_point) { return (flags(code_point) & kWhitespace) != 0; }

// The Unicode version the tables were generated from, e.g. "15.0.0".
const char *version();

}  // namespace bitnet::unicode
