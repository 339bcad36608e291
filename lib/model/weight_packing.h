// Load-time weight conversions: float projections of the BitNet architectures into I2_S, and the
// lm_head into the type the caller asked for. Both are owned by the model and logged.
#pragma once

#include "model/model.h"

namespace bitnet {

// `weight` is an F32/F16/BF16 projection of a bitnet architecture. Ternary-valued weights
// ({-a, 0, +a}) are packed exactly; any other float weights are ternarized with absmean, as the
// Hugging Face model does online (formats.md §3.3): s = mean|W| (>= 1e-5), W = clamp(round(W/s)) * s.
// Rows are padded with zero weights to a multiple of 128 so that any row length works. The packed
// tensor is owned by the model (counted in owned_bytes) and `weight` is rebound to it.
void pack_float_projection(bitnet_model &model, Weight &weight);

// Re-encode the output projection (the lm_head; for a tied model a copy of the embedding, which
// keeps its stored type for lookups) as `target`: F16, Q8_0, Q6_K or Q4_0.
void requantize_output(bitnet_model &model, TensorType target);

}  // namespace bitnet
