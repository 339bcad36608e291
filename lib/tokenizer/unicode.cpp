#include "tokenizer/unicode.h"

namespace bitnet::unicode {

namespace detail {
#include "tokenizer/unicode_tables.inc"
static_assert(generated_block_shift == kBlockShift, "unicode_tables.inc was generated for another block size");
}  // namespace detail

const char *version() { return detail::version_string; }

}  // namespace bitnet::unicode
