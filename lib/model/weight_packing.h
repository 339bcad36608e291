// Repacking float projection weights of the BitNet architectures into I2_S at load time.
#pragma once

#include "model/model.h"

namespace bitnet {

// `weight` is an F32/F16/BF16 projection of a bitnet architecture. Ternary-valued weights
// ({-a, 0, +a}) are packed exactly; any other float weights are ternarized with absmean, as the
// Hugging Face model does online (formats.md §3.3): s = mean|W| (>= 1e-5), W = clamp(round(W/s)) * s.
// Rows are padded with zero weights to a multiple of 128 so that any row length works. The packed
// tensor is owned by the model (counted in owned_bytes) and `weight` is rebound to it.
void pack_float_projection(bitnet_model &model, Weight &weight);

}  // namespace bitnet
