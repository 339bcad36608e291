// BitLinear: ternary weights times int8 activations (formats.md §2.4). out[t][r] =
//   I2_S:  float(Σ t_ri q_ti) / scale_t * weight_scale          (exact int32 sum)
//   TQ:    (Σ over blocks d_b * float(Σ in block t_ri q_ti)) / scale_t * weight_scale
// (the TQ sum runs in a different order than the CPU's, so it may differ in the last bits).
// A workgroup of 128 invocations computes 128 / LANES rows for up to 8 tokens: the LANES
// invocations of a row stride over its units, and each weight word is decoded once for all 8
// tokens. Grid: (row groups, token groups).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x = 128) in;
#define WANT_MATMUL_A8_PARAMS
#include "shader_interface.h"  // the push constants `p`
#include "common.glsl"
#include "weights.glsl"
#include "ternary.glsl"

// Invocations per row: 32 on GPUs (a row's words read together), 8 on CPU devices, where fewer,
// longer strides cost less (set at pipeline creation, vulkan_pipelines.cpp). At least TOKENS.
layout(constant_id = 0) const uint LANES = 32u;
const uint ROWS = MATMUL_INVOCATIONS / LANES, TOKENS = MATMUL_TOKENS;

#ifdef INTEGER_ACCUMULATOR
#define ACCUMULATOR int
#else
#define ACCUMULATOR float
#endif
shared ACCUMULATOR partial[TOKENS * 128u];

void main() {
    const uint lid = gl_LocalInvocationID.x, lane = lid % LANES, row_in_group = lid / LANES;
    const uint row = gl_WorkGroupID.x * ROWS + row_in_group;
    const uint first_token = gl_WorkGroupID.y * TOKENS;
    const uint n_tokens = min(TOKENS, p.n_tokens - first_token);

    // Fixed trip counts, unrolled, keep the accumulators and decoded runs in registers.
    ACCUMULATOR acc[TOKENS];
    [[unroll]] for (uint t = 0u; t < TOKENS; ++t) acc[t] = ACCUMULATOR(0);
    if (row < p.n_rows) {
        const uint row_byte = p.weight_byte + row * p.row_bytes;
        for (uint u = lane; u < p.units; u += LANES) {
            TernaryUnit unit;
            decode_ternary(FORMAT, row_byte, u, unit);
            [[unroll]] for (uint t = 0u; t < TOKENS; ++t) {
                if (t >= n_tokens) continue;
                const uint codes = p.codes_word + (first_token + t) * p.codes_stride;
                int dot = 0;
                [[unroll]] for (uint r = 0u; r < TERNARY_RUNS(FORMAT); ++r) {
                    const ivec4 q = bytes_s(work_u[codes + unit.word[r]]);
                    const ivec4 c = unit.codes[r];
                    dot += c.x * q.x + c.y * q.y + c.z * q.z + c.w * q.w;
                }
#ifdef INTEGER_ACCUMULATOR
                acc[t] += dot;
#else
                acc[t] += unit.d * float(dot);
#endif
            }
        }
    }
    [[unroll]] for (uint t = 0u; t < TOKENS; ++t) {
        if (t < n_tokens) partial[t * 128u + lid] = acc[t];
    }
    barrier();
    // Lane t of each row sums and writes token t: one barrier instead of a reduction tree.
    if (row < p.n_rows && lane < n_tokens) {
        const uint token = first_token + lane;
        ACCUMULATOR total = ACCUMULATOR(0);
        for (uint l = 0u; l < LANES; ++l) total += partial[lane * 128u + row_in_group * LANES + l];
        work_f[p.out_word + token * p.out_stride + row] = float(total) / work_f[p.scale_word + token] * p.weight_scale;
    }
}
