#include "tokenizer/spm.h"

#include <algorithm>
#include <functional>

#include "tokenizer/utf8.h"

namespace bitnet {

void SpmEncoder::encode(std::string_view text, bool starts_text, std::vector<bitnet_token> &out) const {
    std::string escaped;
    escaped.reserve(text.size() * 2 + 3);
    if (tables_.add_space_prefix && starts_text) escaped += tables_.space_symbol;
    for (char byte : text) {
        if (byte == ' ') {
            escaped += tables_.space_symbol;
        } else {
            escaped += byte;
        }
    }
    encode_escaped(escaped, out);
}

namespace {

struct Symbol {
    uint32_t offset;
    uint32_t length;  // 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
};

struct Candidate {
    float score;
    int32_t left;
    int32_t right;
    uint32_t length;  // bytes of the merged piece: stale when the symbols' lengths no longer add up
    bool operator<(const Candidate &other) const {
        return score != other.score ? score < other.score : left > other.left;
    }
};

}  // namespace

void SpmEncoder::encode_escaped(std::string_view text, std::vector<bitnet_token> &out) const {
    if (text.empty()) return;
    const auto *bytes = reinterpret_cast<const uint8_t *>(text.data());
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        uint32_t length = utf8::decode(bytes + pos, text.size() - pos).length;
        int32_t index = static_cast<int32_t>(symbols.size());
        symbols.push_back({static_cast<uint32_t>(pos), length, index - 1, -1});
        if (index > 0) symbols[index - 1].next = index;
        pos += length;
    }

    std::vector<Candidate> queue;  // a max-heap on (score, -left)
    auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        uint32_t length = symbols[left].length + symbols[right].length;
        bitnet_token id = tables_.pieces.find(text.substr(symbols[left].offset, length));
        if (id == BITNET_TOKEN_NULL) return;
        queue.push_back({tables_.scores[id], left, right, length});
        std::push_heap(queue.begin(), queue.end());
    };
    for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) consider(i - 1, i);

    while (!queue.empty()) {
        std::pop_heap(queue.begin(), queue.end());
        Candidate best = queue.back();
        queue.pop_back();
        Symbol &left = symbols[best.left];
        Symbol &right = symbols[best.right];
        if (left.length == 0 || right.length == 0 || left.length + right.length != best.length) continue;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = best.left;
        consider(left.prev, best.left);
        consider(best.left, left.next);
    }

    for (int32_t i = 0; i >= 0; i = symbols[i].next) {
        std::string_view piece = text.substr(symbols[i].offset, symbols[i].length);
        bitnet_token id = tables_.pieces.find(piece);
        if (id != BITNET_TOKEN_NULL) {
            out.push_back(id);
            continue;
        }
        for (char byte : piece) {
            bitnet_token byte_token = tables_.byte_tokens[static_cast<uint8_t>(byte)];
            if (byte_token == BITNET_TOKEN_NULL) byte_token = tables_.unknown;
            if (byte_token != BITNET_TOKEN_NULL) out.push_back(byte_token);
        }
    }
}

}  // namespace bitnet
