#version 450
// gate = act(gate) * up over every element of the batch: relu(g)^2 or silu(g) = g / (1 + exp(-g)).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

#define WANT_GATED_PARAMS
#include "shader_interface.h"  // the push constants `p`

void main() {
    const uint i = flat_index(256u);
    if (i >= p.n) return;
    const float g = work_f[p.gate_word + i];
    const float activated = p.relu_squared != 0u ? (g > 0.0 ? g * g : 0.0) : g / (1.0 + exp(-g));
    work_f[p.gate_word + i] = activated * work_f[p.up_word + i];
}
