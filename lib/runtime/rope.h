// Rotary position embedding on the host, shared by the backends: the CPU backend's forward pass
// and key rotation, and the Vulkan backend's cos/sin table (shaders/rope.comp applies it) and key
// rotation. One definition keeps the two backends' rounding identical (formats.md §2.7).
#pragma once

#include <cstdint>

#include "model/model.h"

namespace bitnet {

// theta_i = base^(-2i / n_rot) for each rotation pair i: writes n_rot / 2 values. Double, so that
// position * theta_i stays exact enough at long range.
void rope_inverse_frequencies(const HyperParams &hp, double *inverse_frequencies);

// cos and sin of position * theta_i for each rotation pair i, pair by pair: cos_sin[2i] and
// cos_sin[2i + 1], n_rot floats. The angle is computed in double, the result rounded to float.
void rope_rotation_table(const HyperParams &hp, const double *inverse_frequencies, double position, float *cos_sin);

// Rotate the pairs of `n_heads` heads of head_dim values each, in place, by a rotation table. Pair
// i of a head is (i, i + n_rot/2) in NEOX order, (2i, 2i + 1) in adjacent order (hp.rope_neox).
void rope_rotate(const HyperParams &hp, float *heads, int32_t n_heads, const float *cos_sin);

// The same for a row stored as F16 (a KV cache row): decoded into `scratch` (n_heads * head_dim
// floats), rotated in float, and rounded back to F16.
void rope_rotate_f16(const HyperParams &hp, uint16_t *heads, int32_t n_heads, const float *cos_sin, float *scratch);

}  // namespace bitnet
