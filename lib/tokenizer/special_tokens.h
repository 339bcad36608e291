// Finding special-token text (such as "<|eot_id|>") in the input and splitting the input around
// it. Control and unknown tokens are recognised only when the caller asks (parse_special);
// user-defined tokens always are. Where matches overlap, the longest token wins, as in llama.cpp:
// every occurrence of the longest token is taken first (left to right), then the next longest in
// the text that is left, and so on; equal lengths go by token id.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bitnet.h"

namespace bitnet {

class SpecialTokenMatcher {
public:
    struct Fragment {
        uint32_t offset;
        uint32_t length;
        bitnet_token token;  // BITNET_TOKEN_NULL for a run of plain text
    };

    // `always`: recognised even without parse_special (user-defined tokens). Empty texts are ignored.
    void add(bitnet_token token, std::string_view text, bool always);
    void finish();  // call once after the last add()

    bool empty() const { return candidates_.empty(); }

    // Split `text` into plain runs and special tokens, in order.
    void partition(std::string_view text, bool parse_special, std::vector<Fragment> &fragments) const;

private:
    struct Candidate {
        std::string_view text;  // a view into the vocabulary's token texts
        bitnet_token token;
        bool always;
    };
    std::vector<Candidate> candidates_;              // sorted by first byte
    std::array<uint32_t, 257> first_byte_start_{};   // candidates_ index range per first byte
    bool any_always_ = false;
};

}  // namespace bitnet
