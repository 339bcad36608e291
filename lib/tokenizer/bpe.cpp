#include "tokenizer/bpe.h"

#include <algorithm>
#include <climits>
#include <queue>
#include <string>
#include <vector>

#include "util/error.h"

namespace bitnet {

size_t build_bpe_merges(const std::vector<std::string_view> &merge_texts, const TextToToken &token_of_text,
                        PairToMerge &merges) {
    merges.reserve(merge_texts.size());
    // Lookups go in batches: hash and prefetch a batch's slots first, then probe, so the cache
    // misses of the 128k-entry text table and of the merge table overlap instead of queueing.
    constexpr size_t kBatch = 32;
    struct Pending {
        std::string_view left, right;
        std::string joined;
        uint64_t left_hash, right_hash, joined_hash;
        bitnet_token left_id, right_id, result;
    };
    std::vector<Pending> batch(kBatch);
    size_t skipped = 0;
    for (size_t first = 0; first < merge_texts.size(); first += kBatch) {
        size_t count = std::min(kBatch, merge_texts.size() - first);
        for (size_t i = 0; i < count; ++i) {
            std::string_view text = merge_texts[first + i];
            size_t space = text.size() > 1 ? text.find(' ', 1) : std::string_view::npos;
            if (space == std::string_view::npos) {
                fail(BITNET_ERR_INVALID_MODEL, "tokenizer.ggml.merges[%zu] has no space between its two parts", first + i);
            }
            Pending &pending = batch[i];
            pending.left = text.substr(0, space);
            pending.right = text.substr(space + 1);
            pending.joined.assign(pending.left).append(pending.right);
            pending.left_hash = TextToToken::hash(pending.left);
            pending.right_hash = TextToToken::hash(pending.right);
            pending.joined_hash = TextToToken::hash(pending.joined);
            token_of_text.prefetch(pending.left_hash);
            token_of_text.prefetch(pending.right_hash);
            token_of_text.prefetch(pending.joined_hash);
        }
        for (size_t i = 0; i < count; ++i) {
            Pending &pending = batch[i];
            pending.left_id = token_of_text.find(pending.left, pending.left_hash);
            pending.right_id = token_of_text.find(pending.right, pending.right_hash);
            pending.result = token_of_text.find(pending.joined, pending.joined_hash);
            merges.prefetch(pending.left_id, pending.right_id);
        }
        for (size_t i = 0; i < count; ++i) {
            const Pending &pending = batch[i];
            if (pending.left_id == BITNET_TOKEN_NULL || pending.right_id == BITNET_TOKEN_NULL ||
                pending.result == BITNET_TOKEN_NULL) {
                ++skipped;  // a merge whose parts or result are not tokens can never apply
                continue;
            }
            merges.insert(pending.left_id, pending.right_id, {static_cast<int32_t>(first + i), pending.result});
        }
    }
    return skipped;
}

// Per-call working memory, reused from word to word.
struct BpeEncoder::Scratch {
    CodeUnits units;
    std::vector<uint32_t> word_ends;
    std::vector<bitnet_token> ids;  // the word's symbols

    // merge_short: ranks[i] / results[i] describe the pair (ids[i], ids[i + 1]).
    std::vector<int32_t> ranks;
    std::vector<bitnet_token> results;

    // merge_long: a linked list of symbols and a queue of candidate pairs.
    struct Candidate {
        int32_t rank;
        int32_t left;  // symbol index; the right one is the left's successor when queued
        int32_t right;
        bitnet_token left_id, right_id, result;
        bool operator>(const Candidate &other) const {
            return rank != other.rank ? rank > other.rank : left > other.left;
        }
    };
    std::vector<int32_t> next;
    std::vector<int32_t> prev;
    std::vector<Candidate> queue;
};

void BpeEncoder::encode(std::string_view text, bool, std::vector<bitnet_token> &out) const {
    Scratch scratch;
    scratch.units.decode(text);
    split_words(pre_tokenizer_, scratch.units, scratch.word_ends);
    size_t start = 0;
    for (uint32_t end : scratch.word_ends) {
        encode_word(text.substr(start, end - start), out, scratch);
        start = end;
    }
}

void BpeEncoder::encode_word(std::string_view word, std::vector<bitnet_token> &out, Scratch &scratch) const {
    if (ignore_merges_ || word.size() == 1) {
        bitnet_token whole = tables_.whole_words.find(word);
        if (whole != BITNET_TOKEN_NULL) {
            out.push_back(whole);
            return;
        }
    }
    // One symbol per byte. A byte without a token (never in a complete byte-level vocabulary)
    // is dropped, as the reference implementation does.
    scratch.ids.clear();
    for (char byte : word) {
        bitnet_token id = tables_.byte_tokens[static_cast<uint8_t>(byte)];
        if (id != BITNET_TOKEN_NULL) scratch.ids.push_back(id);
    }
    // Short words are merged by scanning for the best pair; long ones (runs of CJK text or
    // symbols can be thousands of bytes) through a priority queue.
    constexpr size_t kShortWord = 48;
    if (scratch.ids.size() <= kShortWord) {
        merge_short(scratch);
    } else {
        merge_long(scratch);
    }
    out.insert(out.end(), scratch.ids.begin(), scratch.ids.end());
}

void BpeEncoder::merge_short(Scratch &scratch) const {
    std::vector<bitnet_token> &ids = scratch.ids;
    size_t count = ids.size();
    if (count < 2) return;
    scratch.ranks.resize(count);
    scratch.results.resize(count);
    int32_t *ranks = scratch.ranks.data();
    bitnet_token *results = scratch.results.data();
    auto look_up = [&](size_t i) {
        PairToMerge::Merge merge = tables_.merges.find(ids[i], ids[i + 1]);
        ranks[i] = merge.rank < 0 ? INT32_MAX : merge.rank;
        results[i] = merge.result;
    };
    for (size_t i = 0; i + 1 < count; ++i) look_up(i);
    while (count > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < count; ++i) {
            if (ranks[i] < ranks[best]) best = i;  // strict: the leftmost of equal ranks wins
        }
        if (ranks[best] == INT32_MAX) break;
        // Symbol best + 1 disappears into best; the pairs after it move down one place.
        ids[best] = results[best];
        for (size_t i = best + 1; i + 1 < count; ++i) ids[i] = ids[i + 1];
        for (size_t i = best + 1; i + 2 < count; ++i) {
            ranks[i] = ranks[i + 1];
            results[i] = results[i + 1];
        }
        --count;
        if (best > 0) look_up(best - 1);
        if (best + 1 < count) look_up(best);
    }
    ids.resize(count);
}

void BpeEncoder::merge_long(Scratch &scratch) const {
    using Candidate = Scratch::Candidate;
    std::vector<bitnet_token> &ids = scratch.ids;
    const int32_t count = static_cast<int32_t>(ids.size());
    scratch.next.resize(count);
    scratch.prev.resize(count);
    for (int32_t i = 0; i < count; ++i) {
        scratch.prev[i] = i - 1;
        scratch.next[i] = i + 1 < count ? i + 1 : -1;
    }
    std::vector<Candidate> &queue = scratch.queue;
    queue.clear();
    auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        PairToMerge::Merge merge = tables_.merges.find(ids[left], ids[right]);
        if (merge.rank < 0) return;
        queue.push_back({merge.rank, left, right, ids[left], ids[right], merge.result});
        std::push_heap(queue.begin(), queue.end(), std::greater<>());
    };
    for (int32_t i = 0; i + 1 < count; ++i) consider(i, i + 1);
    while (!queue.empty()) {
        std::pop_heap(queue.begin(), queue.end(), std::greater<>());
        Candidate best = queue.back();
        queue.pop_back();
        // Skip pairs that earlier merges changed: the symbols must still be adjacent and unchanged
        // (a merged symbol always gets a longer token, so its id changes).
        if (scratch.next[best.left] != best.right || ids[best.left] != best.left_id || ids[best.right] != best.right_id) {
            continue;
        }
        ids[best.left] = best.result;
        ids[best.right] = BITNET_TOKEN_NULL;
        int32_t after = scratch.next[best.right];
        scratch.next[best.left] = after;
        scratch.next[best.right] = -1;
        if (after >= 0) scratch.prev[after] = best.left;
        consider(scratch.prev[best.left], best.left);
        consider(best.left, after);
    }
    int32_t kept = 0;
    for (int32_t i = 0; i >= 0 && i < count; i = scratch.next[i]) ids[kept++] = ids[i];
    ids.resize(kept);
}

}  // namespace bitnet
