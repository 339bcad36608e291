// Overflow-checked size arithmetic for parsing untrusted files.
#pragma once

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

}  // namespace bitnet
