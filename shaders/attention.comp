#version 450
// Causal grouped-query attention of one query head of one token over the KV cells it may see:
// cell c is visible iff its position is >= 0 and <= the token's, and it shares a sequence with
// the token. Scores are computed exactly as the CPU does (sequential float dot, times
// 1/sqrt(head_dim)); the softmax runs over chunks of 128 cells with a running maximum, so its
// sums differ from the CPU's two-pass softmax only in rounding. Grid: (n_head, n_tokens).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 128) in;
#include "common.glsl"
layout(set = 1, binding = 0) readonly buffer CacheFloats { float cache_f[]; };
layout(set = 1, binding = 0) readonly buffer CacheWords { uint cache_u[]; };

#define WANT_ATTENTION_PARAMS
#include "shader_interface.h"  // the push constants `p`

const uint WG = 128u;
const uint MAX_HEAD_DIM = ATTENTION_MAX_HEAD_DIM;
const float LOWEST = -3.402823466e38;  // below every score; infinities are avoided on purpose

shared float query[MAX_HEAD_DIM];
shared float output_acc[MAX_HEAD_DIM];
shared float weights[WG];
shared float scores[WG];

float cache_at(uint element) {
    if (p.is_f16 != 0u) return unpackHalf2x16(cache_u[element >> 1])[element & 1u];
    return cache_f[element];
}

void main() {
    const uint head = gl_WorkGroupID.x, token = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
    const uint kv_offset = (head / p.group) * p.head_dim;
    const uint q = p.q_word + token * p.q_stride + head * p.head_dim;
    for (uint d = lid; d < p.head_dim; d += WG) {
        query[d] = work_f[q + d];
        output_acc[d] = 0.0;
    }
    const int token_pos = int(work_u[p.token_pos_word + token]);
    const uint token_mask_low = work_u[p.token_mask_word + 2u * token];
    const uint token_mask_high = work_u[p.token_mask_word + 2u * token + 1u];
    barrier();

    float running_max = LOWEST, running_sum = 0.0;
    bool seen = false;
    for (uint first = 0u; first < p.n_cells; first += WG) {
        const uint cell = first + lid;
        bool visible = false;
        float score = LOWEST;
        if (cell < p.n_cells) {
            const int cell_pos = int(work_u[p.cell_pos_word + cell]);
            const uint shared_low = work_u[p.cell_mask_word + 2u * cell] & token_mask_low;
            const uint shared_high = work_u[p.cell_mask_word + 2u * cell + 1u] & token_mask_high;
            visible = cell_pos >= 0 && cell_pos <= token_pos && (shared_low | shared_high) != 0u;
        }
        if (visible) {
            const uint key = p.keys_base + cell * p.n_embd_kv + kv_offset;
            precise float dot = 0.0;
            for (uint i = 0u; i < p.head_dim; ++i) dot += query[i] * cache_at(key + i);
            score = dot * p.scale;
        }
        // Reductions over the chunk are read serially by every invocation after one barrier: far
        // fewer barriers than a tree, which is what workgroups on CPU implementations pay for.
        const uint n_in_chunk = min(WG, p.n_cells - first);
        scores[lid] = score;
        barrier();
        float chunk_max = LOWEST;
        for (uint i = 0u; i < n_in_chunk; ++i) chunk_max = max(chunk_max, scores[i]);
        if (chunk_max == LOWEST) {  // nothing visible in this chunk (uniform branch)
            barrier();
            continue;
        }
        const float new_max = max(running_max, chunk_max);
        weights[lid] = visible ? exp(score - new_max) : 0.0;
        barrier();
        float chunk_sum = 0.0;
        for (uint i = 0u; i < n_in_chunk; ++i) chunk_sum += weights[i];
        const float correction = seen ? exp(running_max - new_max) : 0.0;
        running_sum = running_sum * correction + chunk_sum;
        for (uint d = lid; d < p.head_dim; d += WG) {
            float acc = output_acc[d] * correction;
            for (uint i = 0u; i < n_in_chunk; ++i) {
                const float w = weights[i];
                if (w > 0.0) acc += w * cache_at(p.values_base + (first + i) * p.n_embd_kv + kv_offset + d);
            }
            output_acc[d] = acc;
        }
        running_max = new_max;
        seen = true;
        barrier();
    }
    // Every token sees at least its own cell, so running_sum >= 1.
    const float inv_sum = 1.0 / running_sum;
    const uint destination = p.out_word + token * p.out_stride + head * p.head_dim;
    for (uint d = lid; d < p.head_dim; d += WG) work_f[destination + d] = output_acc[d] * inv_sum;
}
