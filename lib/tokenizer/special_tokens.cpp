#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace bitnet {

void SpecialTokenMatcher::add(bitnet_token token, std::string_view text, bool always) {
    if (text.empty()) return;
    candidates_.push_back({text, token, always});
    any_always_ = any_always_ || always;
}

void SpecialTokenMatcher::finish() {
    std::sort(candidates_.begin(), candidates_.end(), [](const Candidate &a, const Candidate &b) {
        return static_cast<uint8_t>(a.text[0]) < static_cast<uint8_t>(b.text[0]);
    });
    size_t index = 0;
    for (uint32_t byte = 0; byte <= 256; ++byte) {
        while (byte < 256 && index < candidates_.size() && static_cast<uint8_t>(candidates_[index].text[0]) < byte) ++index;
        first_byte_start_[byte] = byte < 256 ? static_cast<uint32_t>(index) : static_cast<uint32_t>(candidates_.size());
    }
}

void SpecialTokenMatcher::partition(std::string_view text, bool parse_special,
                                    std::vector<Fragment> &fragments) const {
    fragments.clear();
    auto whole_text = [&] {
        if (!text.empty()) fragments.push_back({0, static_cast<uint32_t>(text.size()), BITNET_TOKEN_NULL});
    };
    if (candidates_.empty() || (!parse_special && !any_always_)) {
        whole_text();
        return;
    }

    // Every occurrence of every eligible token, overlapping ones included.
    struct Match {
        uint32_t offset;
        uint32_t length;
        bitnet_token token;
    };
    std::vector<Match> matches;
    for (size_t pos = 0; pos < text.size(); ++pos) {
        auto first = static_cast<uint8_t>(text[pos]);
        for (uint32_t i = first_byte_start_[first]; i < first_byte_start_[first + 1]; ++i) {
            const Candidate &candidate = candidates_[i];
            if (!parse_special && !candidate.always) continue;
            if (text.compare(pos, candidate.text.size(), candidate.text) == 0) {
                matches.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(candidate.text.size()), candidate.token});
            }
        }
    }
    if (matches.empty()) {
        whole_text();
        return;
    }

    // Longest token first; each token's occurrences left to right; a match is taken when none of
    // its bytes is taken yet.
    std::sort(matches.begin(), matches.end(), [](const Match &a, const Match &b) {
        if (a.length != b.length) return a.length > b.length;
        if (a.token != b.token) return a.token < b.token;
        return a.offset < b.offset;
    });
    std::vector<bool> taken(text.size(), false);
    std::vector<Match> accepted;
    for (const Match &match : matches) {
        bool free = true;
        for (uint32_t i = 0; i < match.length && free; ++i) free = !taken[match.offset + i];
        if (!free) continue;
        for (uint32_t i = 0; i < match.length; ++i) taken[match.offset + i] = true;
        accepted.push_back(match);
    }
    std::sort(accepted.begin(), accepted.end(), [](const Match &a, const Match &b) { return a.offset < b.offset; });

    uint32_t cursor = 0;
    for (const Match &match : accepted) {
        if (match.offset > cursor) fragments.push_back({cursor, match.offset - cursor, BITNET_TOKEN_NULL});
        fragments.push_back({match.offset, match.length, match.token});
        cursor = match.offset + match.length;
    }
    if (cursor < text.size()) fragments.push_back({cursor, static_cast<uint32_t>(text.size()) - cursor, BITNET_TOKEN_NULL});
}

}  // namespace bitnet
