// Prompt lookup drafting (Saxena 2023, "prompt lookup decoding"; llama.cpp's lookup example):
// where the sequence's last n tokens occurred before, the tokens that followed them are a likely
// continuation. Costs a scan of the sequence, no model.
#pragma once

#include <cstdint>
#include <vector>

#include "bitnet.h"

namespace bitnet::speculative {

// Up to `max_tokens` tokens that followed the most recent earlier occurrence of the last `ngram`
// tokens of tokens[0, n); empty when there is none.
void lookup_draft(const bitnet_token *tokens, int32_t n, int32_t ngram, int32_t max_tokens,
                  std::vector<bitnet_token> &draft);

}  // namespace bitnet::speculative
