// Float projections: any weight type times float activations, as the CPU's float path computes
// them (each element dequantized exactly as lib/tensor/quantize.cpp does, then a dot product in
// float, in a different summation order). Used for float weights (llama files), for ternary
// weights in analysis mode (quantize_activations = false) and, with LM_HEAD defined, for the
// lm_head: inputs gathered from the batch's output entries, logits written to the readback buffer.
// Same tiling as matmul_a8.glsl: 128 / LANES rows x 8 tokens per workgroup.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x = 128) in;
#ifdef EMBED
#define WANT_EMBED_PARAMS
#else
#define WANT_MATMUL_FLOAT_PARAMS
#endif
#include "shader_interface.h"  // the push constants `p`
#include "common.glsl"
#include "weights.glsl"
#include "ternary.glsl"
#ifdef LM_HEAD
layout(set = 2, binding = 0) buffer Readback { float readback_f[]; };
#endif


// The weight type (engine tensor type id) this pipeline decodes: a specialization constant, so
// each pipeline holds only its own decoder.
layout(constant_id = 1) const uint WEIGHT_TYPE = 0u;

// Runs of four elements per unit.
const uint RUNS = WEIGHT_TYPE == TYPE_Q4_0 ? 2u
                  : (WEIGHT_TYPE == TYPE_Q6_K || WEIGHT_TYPE == TYPE_I2S || WEIGHT_TYPE == TYPE_TQ2) ? 4u
                  : WEIGHT_TYPE == TYPE_TQ1 ? 5u : 1u;

struct FloatUnit {
    vec4 w[5];
    uint x[5];  // element index of each run
};

vec4 f16x4(uint byte_offset) {
    return vec4(unpackHalf2x16(load_u32(byte_offset)), unpackHalf2x16(load_u32(byte_offset + 4u)));
}

vec4 bf16x4(uint byte_offset) {
    const uint a = load_u32(byte_offset), b = load_u32(byte_offset + 4u);
    return vec4(uintBitsToFloat(a << 16), uintBitsToFloat(a & 0xffff0000u), uintBitsToFloat(b << 16),
                uintBitsToFloat(b & 0xffff0000u));
}

// Unit sizes: F32/F16/BF16 4 elements; Q8_0 4 (8 per block); Q4_0 8 (4 per block);
// Q6_K 16 (16 per block); ternary formats see ternary.glsl.
void decode_float(uint row_byte, uint u, out FloatUnit unit) {
    if (WEIGHT_TYPE == TYPE_F32) {
        const uint w = (row_byte >> 2) + 4u * u;
        unit.w[0] = vec4(weight_f[w], weight_f[w + 1u], weight_f[w + 2u], weight_f[w + 3u]);
        unit.x[0] = 4u * u;
    } else if (WEIGHT_TYPE == TYPE_F16) {
        unit.w[0] = f16x4(row_byte + 8u * u);
        unit.x[0] = 4u * u;
    } else if (WEIGHT_TYPE == TYPE_BF16) {
        unit.w[0] = bf16x4(row_byte + 8u * u);
        unit.x[0] = 4u * u;
    } else if (WEIGHT_TYPE == TYPE_Q8_0) {
        // 34-byte blocks: d f16, qs int8[32]; x = q * d.
        const uint block = u >> 3, k = u & 7u, base = row_byte + block * 34u;
        unit.w[0] = vec4(bytes_s(load_u32(base + 2u + 4u * k))) * load_f16(base);
        unit.x[0] = block * 32u + 4u * k;
    } else if (WEIGHT_TYPE == TYPE_Q4_0) {
        // 18-byte blocks: d f16, qs u8[16]; low nibbles first half, high nibbles second, x = (q - 8) * d.
        const uint block = u >> 2, k = u & 3u, base = row_byte + block * 18u;
        const float d = load_f16(base);
        const ivec4 b = bytes_u(load_u32(base + 2u + 4u * k));
        unit.w[0] = vec4((b & 0xf) - 8) * d;
        unit.w[1] = vec4((b >> 4) - 8) * d;
        unit.x[0] = block * 32u + 4u * k;
        unit.x[1] = unit.x[0] + 16u;
    } else if (WEIGHT_TYPE == TYPE_Q6_K) {
        // 210-byte blocks: ql[128], qh[64], scales int8[16], d f16 (formats.md §1.6).
        const uint block = u >> 4, k = u & 15u, h = k >> 3, l0 = 4u * (k & 7u), is = l0 >> 4;
        const uint base = row_byte + block * 210u;
        const ivec4 ql = bytes_u(load_u32(base + h * 64u + l0));
        const ivec4 ql2 = bytes_u(load_u32(base + h * 64u + 32u + l0));
        const ivec4 qh = bytes_u(load_u32(base + 128u + h * 32u + l0));
        const float d = load_f16(base + 208u);
        const uint sc = base + 192u + h * 8u + is;
        const ivec4 q1 = ((ql & 0xf) | (((qh >> 0) & 3) << 4)) - 32;
        const ivec4 q2 = ((ql2 & 0xf) | (((qh >> 2) & 3) << 4)) - 32;
        const ivec4 q3 = ((ql >> 4) | (((qh >> 4) & 3) << 4)) - 32;
        const ivec4 q4 = ((ql2 >> 4) | (((qh >> 6) & 3) << 4)) - 32;
        unit.w[0] = d * float(load_s8(sc)) * vec4(q1);
        unit.w[1] = d * float(load_s8(sc + 2u)) * vec4(q2);
        unit.w[2] = d * float(load_s8(sc + 4u)) * vec4(q3);
        unit.w[3] = d * float(load_s8(sc + 6u)) * vec4(q4);
        const uint first = block * 256u + h * 128u + l0;
        [[unroll]] for (uint r = 0u; r < 4u; ++r) unit.x[r] = first + 32u * r;
    } else {
        TernaryUnit t;
        decode_ternary(WEIGHT_TYPE, row_byte, u, t);
        const float scale = t.d * p.element_scale;
        [[unroll]] for (uint r = 0u; r < 5u; ++r) {
            unit.w[r] = vec4(bytes_s(t.codes[r])) * scale;
            unit.x[r] = 4u * t.word[r];
        }
    }
}

#ifndef EMBED
// Invocations per row: 32 on GPUs (a row's words read together), 8 on CPU devices, where fewer,
// longer strides cost less (set at pipeline creation, vulkan_pipelines.cpp). At least TOKENS.
layout(constant_id = 0) const uint LANES = 32u;
const uint ROWS = MATMUL_INVOCATIONS / LANES, TOKENS = MATMUL_TOKENS;
shared float partial[TOKENS * 128u];

uint input_row(uint token) {
#ifdef LM_HEAD
    return p.x_word + work_u[p.gather_word + token] * p.x_stride;
#else
    return p.x_word + token * p.x_stride;
#endif
}

void main() {
    const uint lid = gl_LocalInvocationID.x, lane = lid % LANES, row_in_group = lid / LANES;
    const uint row = gl_WorkGroupID.x * ROWS + row_in_group;
    const uint first_token = gl_WorkGroupID.y * TOKENS;
    const uint n_tokens = min(TOKENS, p.n_tokens - first_token);

    uint rows_in[TOKENS];
    [[unroll]] for (uint t = 0u; t < TOKENS; ++t) rows_in[t] = t < n_tokens ? input_row(first_token + t) : 0u;
    float acc[TOKENS];
    [[unroll]] for (uint t = 0u; t < TOKENS; ++t) acc[t] = 0.0;
    if (row < p.n_rows) {
        const uint row_byte = p.weight_byte + row * p.row_bytes;
        for (uint u = lane; u < p.units; u += LANES) {
            FloatUnit unit;
            decode_float(row_byte, u, unit);
            // Runs past `cols` (a row's partial last unit, zero padding of repacked I2_S rows) meet
            // the zero padding of the activation rows, and weights there are finite (zero-filled
            // pages), so they add nothing and need no check.
            [[unroll]] for (uint t = 0u; t < TOKENS; ++t) {
                if (t >= n_tokens) continue;
                float s = 0.0;
                [[unroll]] for (uint r = 0u; r < RUNS; ++r) s += dot(unit.w[r], work_v[(rows_in[t] + unit.x[r]) >> 2]);
                acc[t] += s;
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
        float total = 0.0;
        for (uint l = 0u; l < LANES; ++l) total += partial[lane * 128u + row_in_group * LANES + l];
        const float value = total * p.output_scale;
#ifdef LM_HEAD
        readback_f[p.out_word + token * p.out_stride + row] = value;
#else
        work_f[p.out_word + token * p.out_stride + row] = value;
#endif
    }
}
#else
// EMBED (embed.comp): each token's embedding row, decoded as above (the same values as the CPU's
// dequantize_rows), into its residual row. One workgroup per token; a table cut into pages is
// dispatched once per page, and a workgroup whose token lies in another page writes nothing.
// Only values < cols are written: the rows' zero padding stays zero.
void main() {
    const uint token = gl_WorkGroupID.x;
    if (token >= p.n_tokens) return;
    const uint id = work_u[p.tokens_word + token];
    if (id < p.first_row || id - p.first_row >= p.n_rows) return;
    const uint row_byte = p.weight_byte + (id - p.first_row) * p.row_bytes;
    const uint out_row = p.out_word + token * p.out_stride;
    for (uint u = gl_LocalInvocationID.x; u < p.units; u += 128u) {
        FloatUnit unit;
        decode_float(row_byte, u, unit);
        [[unroll]] for (uint r = 0u; r < RUNS; ++r) {
            [[unroll]] for (uint j = 0u; j < 4u; ++j) {
                const uint x = unit.x[r] + j;
                if (x < p.cols) work_f[out_row + x] = unit.w[r][j] * p.output_scale;
            }
        }
    }
}
#endif
