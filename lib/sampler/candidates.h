// Operations on candidate arrays that several samplers share: ranking, partial sorting, softmax.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "bitnet.h"

namespace bitnet::sampling {

// Candidates rank by descending logit, equal logits by ascending id: a total order, so every
// sort and selection gives the same order on every platform. Logits are never NaN here: sample
// calls reject NaN logits, the built-in members cannot make one, and arrays from callers and
// custom samplers are checked (see require_no_nan).
struct RanksBefore {
    bool operator()(const bitnet_token_data &a, const bitnet_token_data &b) const {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    }
};
inline constexpr RanksBefore ranks_before{};

// Throws BITNET_ERR_INVALID_INPUT, naming `source`, when a candidate's logit is NaN.
void require_no_nan(const bitnet_token_data_array &candidates, const char *source);

// Index of the best-ranked candidate. Requires size > 0.
size_t best_index(const bitnet_token_data_array &candidates);

// Highest logit among the candidates (data[0] when sorted). Requires size > 0.
float max_logit(const bitnet_token_data_array &candidates);

// Make data[0, k) the k best-ranked candidates in rank order (the rest in no particular order).
// Sets `sorted` when that covers the whole array. Does nothing when already sorted.
void sort_top(bitnet_token_data_array &candidates, size_t k);

// Given data[0, from) already the best `from` in rank order, extend that to data[0, to).
void extend_sorted_prefix(bitnet_token_data_array &candidates, size_t from, size_t to);

// Set p to the softmax of the logits over all candidates; returns the sum of the p values as
// stored (close to 1). Throws BITNET_ERR_INVALID_INPUT naming `sampler` when no logit is finite.
double softmax(bitnet_token_data_array &candidates, const char *sampler);

// Call visit(candidate, entry) for every entry of `entries` (each with a `token` field, one entry
// per token) whose token is among the candidates. While the candidates are laid out by id (as a
// sample call builds them, until a member reorders them) each lookup is direct; entries found
// that way are the common case, the rest are resolved in one scan with a binary search, using
// `misses` as scratch (reserve entries.size() once to keep this free of allocations).
template <class Entry, class Visit>
void for_each_listed_token(bitnet_token_data_array &candidates, const std::vector<Entry> &entries,
                           std::vector<Entry> &misses, Visit visit) {
    misses.clear();
    for (const Entry &entry : entries) {
        bitnet_token token = entry.token;
        if (token >= 0 && static_cast<size_t>(token) < candidates.size && candidates.data[token].id == token) {
            visit(candidates.data[token], entry);
        } else {
            misses.push_back(entry);
        }
    }
    if (misses.empty()) return;
    auto by_token = [](const Entry &a, const Entry &b) { return a.token < b.token; };
    std::sort(misses.begin(), misses.end(), by_token);
    for (size_t i = 0; i < candidates.size; ++i) {
        bitnet_token_data &candidate = candidates.data[i];
        Entry probe{};
        probe.token = candidate.id;
        auto found = std::lower_bound(misses.begin(), misses.end(), probe, by_token);
        if (found != misses.end() && found->token == candidate.id) visit(candidate, *found);
    }
}

}  // namespace bitnet::sampling
