// Tokenizing a whole text with the public API's size-query convention (include/bitnet.h).
#pragma once

#include <string>
#include <vector>

#include "bitnet.h"

namespace bitnet_serve {

// false on failure (bitnet_last_error() says why) or a text too long for the API's int32 length.
bool tokenize_text(const bitnet_model *model, const std::string &text, bool add_special, bool parse_special,
                   std::vector<int32_t> *tokens);

}  // namespace bitnet_serve
