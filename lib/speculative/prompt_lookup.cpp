#include "speculative/prompt_lookup.h"

#include <algorithm>

namespace bitnet::speculative {

void lookup_draft(const bitnet_token *tokens, int32_t n, int32_t ngram, int32_t max_tokens,
                  std::vector<bitnet_token> &draft) {
    draft.clear();
    if (ngram < 1 || max_tokens < 1 || n <= ngram) return;
    const bitnet_token *key = tokens + (n - ngram);
    // Most recent first: the nearest repetition is the best guess of what comes next. A match
    // starting at `start` must be followed by at least one token before the key itself.
    for (int32_t start = n - ngram - 1; start >= 0; --start) {
        if (!std::equal(key, key + ngram, tokens + start)) continue;
        const int32_t from = start + ngram, to = std::min(n, from + max_tokens);
        draft.assign(tokens + from, tokens + to);
        return;
    }
}

}  // namespace bitnet::speculative
