// Editing the KV cache by sequence: remove, share, keep, shift (see bitnet.h "Sequence memory").
#pragma once

#include <cstdint>

#include "runtime/context.h"

namespace bitnet {

void memory_clear(bitnet_context &context);
void seq_rm(bitnet_context &context, int32_t seq, int32_t p0, int32_t p1);
void seq_cp(bitnet_context &context, int32_t src, int32_t dst, int32_t p0, int32_t p1);
void seq_keep(bitnet_context &context, int32_t seq);
void seq_add(bitnet_context &context, int32_t seq, int32_t p0, int32_t p1, int32_t delta);
// -1 when the sequence holds no cells.
int32_t seq_pos_min(const bitnet_context &context, int32_t seq);
int32_t seq_pos_max(const bitnet_context &context, int32_t seq);

}  // namespace bitnet
