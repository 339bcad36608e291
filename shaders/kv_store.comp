#version 450
// Store the batch's keys and values into their KV cells (set 1: this layer's cache, keys then
// values, [n_ctx][n_embd_kv] each, F32 or F16). F16 conversion rounds to nearest even exactly as
// the CPU's float_to_half does (packHalf2x16's rounding is not specified). Two elements per
// invocation.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "half.glsl"
layout(set = 1, binding = 0) buffer CacheFloats { float cache_f[]; };
layout(set = 1, binding = 0) buffer CacheWords { uint cache_u[]; };

#define WANT_KV_STORE_PARAMS
#include "shader_interface.h"  // the push constants `p`

void main() {
    const uint index = flat_index(64u);
    const uint pairs = p.n_embd_kv / 2u;
    if (index >= p.n_tokens * pairs) return;
    const uint token = index / pairs, i = 2u * (index % pairs);
    const uint cell = work_u[p.cells_word + token];
    const uint k = p.k_word + token * p.stride + i, v = p.v_word + token * p.stride + i;
    const uint key = p.keys_base + cell * p.n_embd_kv + i, value = p.values_base + cell * p.n_embd_kv + i;
    if (p.is_f16 != 0u) {
        cache_u[key / 2u] = float_to_half(work_f[k]) | (float_to_half(work_f[k + 1u]) << 16);
        cache_u[value / 2u] = float_to_half(work_f[v]) | (float_to_half(work_f[v + 1u]) << 16);
    } else {
        cache_f[key] = work_f[k];
        cache_f[key + 1u] = work_f[k + 1u];
        cache_f[value] = work_f[v];
        cache_f[value + 1u] = work_f[v + 1u];
    }
}
