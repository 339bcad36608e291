// Overflow-checked size arithmetic for parsing untrusted files.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bitnet {

// Each returns false (leaving *out unspecified) when the exact result does not fit in uint64_t.
inline bool checked_add(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_add_overflow(a, b, out); }
inline bool checked_mul(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }

// Round `value` up to a multiple of `alignment` (a power of two), or fail on overflow.
inline bool checked_align_up(uint64_t value, uint64_t alignment, uint64_t *out) {
    uint64_t bumped;
    if (!checked_add(value, alignment - 1, &bumped)) return false;
    *out = bumped & ~(alignment - 1);
    return true;
}

// The largest file (or in-memory image) this build maps or reads as one object: PTRDIFF_MAX, the
// largest object a C++ program can index with pointer differences. 2 GiB - 1 on 32-bit systems
// (whose address space could not hold a larger model next to the program anyway), 8 EiB - 1 on
// 64-bit ones. Sizes come from 64-bit fields (st_size, GGUF offsets and counts, formats.md §1):
// compare them with this before turning them into size_t, so that a large file is refused rather
// than wrapped.
inline constexpr uint64_t kMaxMappableBytes = static_cast<uint64_t>(PTRDIFF_MAX);

// `value` as size_t, or false when it is above kMaxMappableBytes (a 32-bit build and a 64-bit size).
inline bool checked_mappable_size(uint64_t value, size_t *out) {
    if (value > kMaxMappableBytes) return false;
    *out = static_cast<size_t>(value);
    return true;
}

}  // namespace bitnet
