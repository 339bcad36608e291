// The tokenizer model behind a vocabulary: turns plain text (special tokens already split off)
// into token ids.
#pragma once

#include <string_view>
#include <vector>

#include "bitnet.h"

namespace bitnet {

class Encoder {
public:
    virtual ~Encoder() = default;
    // Append the tokens of `text`, a run of plain text. `starts_text` is true for a run at the
    // start of the input or right after a special token (SentencePiece adds its space there).
    virtual void encode(std::string_view text, bool starts_text, std::vector<bitnet_token> &out) const = 0;
};

}  // namespace bitnet
