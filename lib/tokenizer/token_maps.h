// Open-addressing hash tables for the tokenizer's hot lookups: byte string -> token id, and
// (left id, right id) -> BPE merge. Both are flat arrays probed linearly and kept at most half
// full, so a lookup is one hash and usually one cache line.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "bitnet.h"

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL  // the hash runs once per lookup: let it inline
#endif
#include <xxhash.h>

namespace bitnet {

// Maps byte strings to token ids. The map stores views: the bytes must outlive it.
class TextToToken {
public:
    void reserve(size_t count) { grow_to(capacity_for(count)); }

    // A text inserted twice keeps the later id (as a vocabulary read in id order does).
    void insert(std::string_view text, bitnet_token id) {
        if ((count_ + 1) * 2 > slots_.size()) grow_to(capacity_for(count_ + 1));
        Slot *slot = probe(text);
        if (slot->data == nullptr) {
            ++count_;
            slot->data = text.data() ? text.data() : "";
            slot->size = static_cast<uint32_t>(text.size());
        }
        slot->id = id;
    }

    // The id of `text`, or BITNET_TOKEN_NULL.
    bitnet_token find(std::string_view text) const { return find(text, hash(text)); }

    // Split lookups for bulk work: hash, prefetch the slot, and find later, so that the memory
    // latency of many lookups overlaps.
    static uint64_t hash(std::string_view text) { return XXH3_64bits(text.data(), text.size()); }
    void prefetch(uint64_t text_hash) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[text_hash & (slots_.size() - 1)]);
    }
    bitnet_token find(std::string_view text, uint64_t text_hash) const {
        if (slots_.empty()) return BITNET_TOKEN_NULL;
        return const_cast<TextToToken *>(this)->probe(text, text_hash)->id;
    }

    size_t size() const { return count_; }

private:
    struct Slot {
        const char *data = nullptr;  // null marks an empty slot
        uint32_t size = 0;
        bitnet_token id = BITNET_TOKEN_NULL;
    };

    static size_t capacity_for(size_t count) {
        size_t capacity = 16;
        while (capacity < count * 2) capacity *= 2;
        return capacity;
    }

    Slot *probe(std::string_view text) { return probe(text, hash(text)); }
    Slot *probe(std::string_view text, uint64_t text_hash) {
        size_t mask = slots_.size() - 1;
        for (size_t index = text_hash & mask;; index = (index + 1) & mask) {
            Slot &slot = slots_[index];
            if (slot.data == nullptr) return &slot;
            if (slot.size == text.size() && std::memcmp(slot.data, text.data(), text.size()) == 0) return &slot;
        }
    }

    void grow_to(size_t capacity) {
        if (capacity <= slots_.size()) return;
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(capacity, Slot{});
        for (const Slot &slot : old) {
            if (slot.data) *probe(std::string_view(slot.data, slot.size)) = slot;
        }
    }

    std::vector<Slot> slots_;
    size_t count_ = 0;
};

// Maps a pair of adjacent BPE symbols to the merge that joins them.
class PairToMerge {
public:
    struct Merge {
        int32_t rank = -1;  // index in tokenizer.ggml.merges: lower merges first; -1 = no merge
        bitnet_token result = BITNET_TOKEN_NULL;
    };

    void reserve(size_t count) {
        size_t capacity = 16;
        while (capacity < count * 2) capacity *= 2;
        slots_.assign(capacity, Slot{});
        count_ = 0;
    }

    // Returns false if the pair already has a merge (the earlier, better-ranked one is kept).
    bool insert(bitnet_token left, bitnet_token right, Merge merge) {
        if ((count_ + 1) * 2 > slots_.size()) grow();
        Slot *slot = probe(key_of(left, right));
        if (slot->key != kEmpty) return false;
        slot->key = key_of(left, right);
        slot->merge = merge;
        ++count_;
        return true;
    }

    void prefetch(bitnet_token left, bitnet_token right) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[home_of(key_of(left, right))]);
    }

    Merge find(bitnet_token left, bitnet_token right) const {
        if (slots_.empty()) return Merge{};
        return const_cast<PairToMerge *>(this)->probe(key_of(left, right))->merge;
    }

    size_t size() const { return count_; }

private:
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    struct Slot {
        uint64_t key = kEmpty;
        Merge merge;
    };

    static uint64_t key_of(bitnet_token left, bitnet_token right) {
        return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    }

    // Fibonacci hashing: the multiply spreads both ids over the high bits.
    size_t home_of(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots_.size() - 1);
    }

    Slot *probe(uint64_t key) {
        size_t mask = slots_.size() - 1;
        for (size_t index = home_of(key);; index = (index + 1) & mask) {
            Slot &slot = slots_[index];
            if (slot.key == key || slot.key == kEmpty) return &slot;
        }
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
        for (const Slot &slot : old) {
            if (slot.key != kEmpty) *probe(slot.key) = slot;
        }
    }

    std::vector<Slot> slots_;
    size_t count_ = 0;
};

}  // namespace bitnet
