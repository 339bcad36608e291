#version 450
// Context shift on the device: the cached keys of moved cells rotated by their position deltas
// (set 1: one layer's cache, keys first, [n_ctx][n_embd_kv], F32 or F16), as the CPU backend's
// rope_rotate / rope_rotate_f16 do (runtime/rope.cpp): cos and sin of each cell's delta come from
// the host's rope_rotation_table, rounded to float as the CPU's; F16 keys are widened, rotated in
// float and rounded back to nearest even. One invocation per (cell, KV head) walks the head's
// pairs, so no two invocations share a 32-bit word of F16 keys.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "half.glsl"
layout(set = 1, binding = 0) buffer CacheFloats { float cache_f[]; };
layout(set = 1, binding = 0) buffer CacheWords { uint cache_u[]; };

#define WANT_ROPE_SHIFT_PARAMS
#include "shader_interface.h"  // the push constants `p`

float load_key(uint element) {
    if (p.is_f16 == 0u) return cache_f[element];
    return unpackHalf2x16(cache_u[element >> 1] >> (16u * (element & 1u))).x;
}

void store_key(uint element, float value) {
    if (p.is_f16 == 0u) {
        cache_f[element] = value;
    } else {
        const uint shift = 16u * (element & 1u);
        cache_u[element >> 1] = (cache_u[element >> 1] & ~(0xffffu << shift)) | (float_to_half(value) << shift);
    }
}

void main() {
    const uint index = flat_index(64u);
    if (index >= p.n_cells * p.n_heads) return;
    const uint i = index / p.n_heads, head = index % p.n_heads;
    const uint cell = work_u[p.cells_word + i];
    const uint table = p.table_word + 2u * p.half_rot * i;
    const uint base = p.keys_base + cell * p.n_embd_kv + head * p.head_dim;
    for (uint pair = 0u; pair < p.half_rot; ++pair) {
        const uint first = base + (p.neox != 0u ? pair : 2u * pair);
        const uint second = first + (p.neox != 0u ? p.half_rot : 1u);
        const float c = work_f[table + 2u * pair], s = work_f[table + 2u * pair + 1u];
        const float x0 = load_key(first), x1 = load_key(second);
        precise float r0 = x0 * c - x1 * s;
        precise float r1 = x0 * s + x1 * c;
        store_key(first, r0);
        store_key(second, r1);
    }
}
