// Saved context and sequence states (see bitnet.h "State" for the format and its guarantees).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/context.h"

namespace bitnet {

enum class StateKind : uint32_t { Context = 1, Sequence = 2 };

// Upper bound of the saved size.
size_t state_size_bound(const bitnet_context &context, StateKind kind, int32_t seq);
// Returns the bytes written; throws BUFFER_TOO_SMALL if capacity is short.
size_t save_state(bitnet_context &context, StateKind kind, int32_t seq, uint8_t *out, size_t capacity);
// Validates everything before changing the context; throws INVALID_STATE, CONTEXT_FULL, ...
void load_state(bitnet_context &context, StateKind kind, int32_t dst_seq, const uint8_t *data, size_t size);

}  // namespace bitnet
