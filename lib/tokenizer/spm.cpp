#include "tokenizer/spm.h"

#include <algorithm>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace bitnet {

bool spm_words_are_independent(const std::vector<std::string_view> &pieces, std::string_view space_symbol) {
    for (std::string_view piece : pieces) {
        for (size_t at = piece.find(space_symbol, 1); at != std::string_view::npos; at = piece.find(space_symbol, at + 1)) {
            bool after_space = at >= space_symbol.size() && piece.substr(at - space_symbol.size(), space_symbol.size()) == space_symbol;
            if (!after_space) return false;
        }
    }
    return true;
}

void SpmEncoder::encode(std::string_view text, bool starts_text, std::vector<bitnet_token> &out) const {
    const std::string &space = tables_.space_symbol;
    std::string escaped;
    escaped.reserve(text.size() * 2 + space.size());
    if (tables_.add_space_prefix && starts_text) escaped += space;
    for (char byte : text) {
        if (byte == ' ') {
            escaped += space;
        } else {
            escaped += byte;
        }
    }
    if (!tables_.words_are_independent) {
        encode_word(escaped, out);
        return;
    }
    // Words start where a run of space symbols follows another character. Text repeats its
    // words, so each distinct word is merged once per call and copied after that.
    struct Seen {
        size_t first, count;  // its tokens in `out`
    };
    std::unordered_map<std::string_view, Seen> seen;
    auto emit = [&](std::string_view word) {
        auto [entry, is_new] = seen.try_emplace(word, Seen{out.size(), 0});
        if (is_new) {
            encode_word(word, out);
            entry->second.count = out.size() - entry->second.first;
            return;
        }
        for (size_t i = 0; i < entry->second.count; ++i) {
            bitnet_token token = out[entry->second.first + i];
            out.push_back(token);
        }
    };
    std::string_view view(escaped);
    size_t word_start = 0;
    for (size_t at = view.find(space, 1); at != std::string_view::npos; at = view.find(space, at + space.size())) {
        bool after_space = at >= space.size() && view.substr(at - space.size(), space.size()) == space;
        if (after_space) continue;
        emit(view.substr(word_start, at - word_start));
        word_start = at;
    }
    emit(view.substr(word_start));
}

namespace {

constexpr size_t kShortWord = 32;  // symbols; merge_short keeps its state on the stack

// One symbol per UTF-8 character; a byte outside any well-formed sequence is a symbol of its own.
void split_characters(std::string_view word, std::vector<uint32_t> &lengths) {
    lengths.clear();
    const auto *bytes = reinterpret_cast<const uint8_t *>(word.data());
    for (size_t pos = 0; pos < word.size();) {
        uint32_t length = utf8::decode(bytes + pos, word.size() - pos).length;
        lengths.push_back(length);
        pos += length;
    }
}

}  // namespace

void SpmEncoder::encode_word(std::string_view word, std::vector<bitnet_token> &out) const {
    if (word.empty()) return;
    std::vector<uint32_t> lengths;
    split_characters(word, lengths);
    // Short words scan for the best pair; long runs (text without spaces) use a priority queue.
    if (lengths.size() <= kShortWord) {
        merge_short(word, lengths);
    } else {
        merge_long(word, lengths);
    }
    size_t offset = 0;
    for (uint32_t length : lengths) {
        if (length == 0) continue;
        std::string_view piece = word.substr(offset, length);
        offset += length;
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

// Merge the adjacent pair whose joined text is the best-scoring piece (the leftmost of equal
// scores) until no pair joins into a piece. `lengths` become the merged symbols' lengths.
void SpmEncoder::merge_short(std::string_view word, std::vector<uint32_t> &lengths) const {
    size_t count = lengths.size();
    uint32_t offsets[kShortWord + 1];
    float scores[kShortWord] = {};
    bool joinable[kShortWord] = {};
    for (size_t i = 0, offset = 0; i < count; offset += lengths[i++]) offsets[i] = static_cast<uint32_t>(offset);
    offsets[count] = static_cast<uint32_t>(word.size());
    auto look_up = [&](size_t i) {
        bitnet_token id = tables_.pieces.find(word.substr(offsets[i], offsets[i + 2] - offsets[i]));
        joinable[i] = id != BITNET_TOKEN_NULL;
        if (joinable[i]) scores[i] = tables_.scores[id];
    };
    for (size_t i = 0; i + 1 < count; ++i) look_up(i);
    while (count > 1) {
        size_t best = count;
        for (size_t i = 0; i + 1 < count; ++i) {
            if (joinable[i] && (best == count || scores[i] > scores[best])) best = i;
        }
        if (best == count) break;
        // Symbol best + 1 disappears into best; the pairs after it move down one place.
        for (size_t i = best + 1; i < count; ++i) offsets[i] = offsets[i + 1];
        for (size_t i = best + 1; i + 2 < count; ++i) {
            scores[i] = scores[i + 1];
            joinable[i] = joinable[i + 1];
        }
        --count;
        if (best > 0) look_up(best - 1);
        if (best + 1 < count) look_up(best);
    }
    lengths.resize(count);
    for (size_t i = 0; i < count; ++i) lengths[i] = offsets[i + 1] - offsets[i];
}

namespace {

struct Candidate {
    float score;
    int32_t left;
    int32_t right;
    uint32_t length;  // bytes of the joined piece: stale when the symbols' lengths no longer add up
    bool operator<(const Candidate &other) const {
        return score != other.score ? score < other.score : left > other.left;
    }
};

}  // namespace

void SpmEncoder::merge_long(std::string_view word, std::vector<uint32_t> &lengths) const {
    const int32_t count = static_cast<int32_t>(lengths.size());
    std::vector<uint32_t> offsets(count);
    std::vector<int32_t> prev(count), next(count);
    for (int32_t i = 0, offset = 0; i < count; offset += lengths[i++]) {
        offsets[i] = static_cast<uint32_t>(offset);
        prev[i] = i - 1;
        next[i] = i + 1 < count ? i + 1 : -1;
    }
    std::vector<Candidate> queue;  // a max-heap on (score, -left)
    auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        uint32_t length = lengths[left] + lengths[right];
        bitnet_token id = tables_.pieces.find(word.substr(offsets[left], length));
        if (id == BITNET_TOKEN_NULL) return;
        queue.push_back({tables_.scores[id], left, right, length});
        std::push_heap(queue.begin(), queue.end());
    };
    for (int32_t i = 1; i < count; ++i) consider(i - 1, i);
    while (!queue.empty()) {
        std::pop_heap(queue.begin(), queue.end());
        Candidate best = queue.back();
        queue.pop_back();
        if (lengths[best.left] == 0 || lengths[best.right] == 0 || lengths[best.left] + lengths[best.right] != best.length) {
            continue;
        }
        lengths[best.left] += lengths[best.right];
        lengths[best.right] = 0;
        next[best.left] = next[best.right];
        if (next[best.right] >= 0) prev[next[best.right]] = best.left;
        consider(prev[best.left], best.left);
        consider(best.left, next[best.left]);
    }
    // Merged-away symbols keep length 0 and are skipped by the caller.
}

}  // namespace bitnet
