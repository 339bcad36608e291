#include "tokenize_text.h"

#include <cstdint>

namespace bitnet_serve {

bool tokenize_text(const bitnet_model *model, const std::string &text, bool add_special, bool parse_special,
                   std::vector<int32_t> *tokens) {
    if (text.size() > static_cast<size_t>(INT32_MAX / 2)) return false;
    const int32_t length = static_cast<int32_t>(text.size());
    int32_t n = bitnet_tokenize(model, text.data(), length, nullptr, 0, add_special, parse_special);
    if (n < 0 && n != BITNET_COUNT_ERROR) {
        tokens->resize(static_cast<size_t>(-n));
        n = bitnet_tokenize(model, text.data(), length, tokens->data(), -n, add_special, parse_special);
    }
    if (n < 0) return false;
    tokens->resize(static_cast<size_t>(n));
    return true;
}

}  // namespace bitnet_serve
