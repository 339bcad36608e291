// The shape of the activation buffers (runtime/ops.h's Act), the same for every backend: how many
// values one row of each holds, and how wide the int8 copy of a projection's input must be.
#pragma once

#include <cstdint>

#include "model/model.h"
#include "runtime/ops.h"

namespace bitnet {

// Values in one row (one batch entry) of `act`: n_embd, n_embd_kv (K, V) or n_ff (Gate, Up).
int64_t activation_width(const HyperParams &hp, Act act);

// The widest row any projection reads, padded to the largest weight block (TQ: 256 elements), so
// that one int8 activation row fits every projection's stored (padded) columns.
int64_t widest_projection_input(const HyperParams &hp);

}  // namespace bitnet
