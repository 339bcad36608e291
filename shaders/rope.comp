#version 450
// Rotary embedding in place: pair i of every head of every token is rotated by the angle of the
// token's position, whose cos and sin the host computed in double and rounded to float exactly as
// the CPU backend does. Pairs are (i, i + n_rot/2) (NEOX) or (2i, 2i + 1) (adjacent).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"

#define WANT_ROPE_PARAMS
#include "shader_interface.h"  // the push constants `p`

void main() {
    const uint index = flat_index(64u);
    const uint per_token = p.n_heads * p.half_rot;
    if (index >= p.n_tokens * per_token) return;
    const uint token = index / per_token, rest = index % per_token;
    const uint head = rest / p.half_rot, pair = rest % p.half_rot;
    const uint first = p.buffer_word + token * p.stride + head * p.head_dim + (p.neox != 0u ? pair : 2u * pair);
    const uint second = first + (p.neox != 0u ? p.half_rot : 1u);
    const float c = work_f[p.table_word + 2u * (token * p.half_rot + pair)];
    const float s = work_f[p.table_word + 2u * (token * p.half_rot + pair) + 1u];
    const float x0 = work_f[first], x1 = work_f[second];
    precise float r0 = x0 * c - x1 * s;
    precise float r1 = x0 * s + x1 * c;
    work_f[first] = r0;
    work_f[second] = r1;
}
