#include "tokenizer/unicode.h"

#include <cstddef>

namespace bitnet::unicode {

namespace detail {
#include "tokenizer/unicode_tables.inc"
static_assert(generated_block_shift == kBlockShift, "unicode_tables.inc was generated for another block size");
}  // namespace detail

const char *version() { return detail::version_string; }

uint32_t fold_to_ascii(uint32_t code_point) {
    if (code_point < 0x80) return code_point >= 'A' && code_point <= 'Z' ? code_point + ('a' - 'A') : code_point;
    for (size_t i = 0; i < sizeof detail::ascii_fold_source / sizeof detail::ascii_fold_source[0]; ++i) {
        if (detail::ascii_fold_source[i] == code_point) return detail::ascii_fold_target[i];
    }
    return code_point;
}

}  // namespace bitnet::unicode
