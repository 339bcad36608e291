// BitLinear: ternary weights times int8 activations (formats.md §2.4). out[t][r] =
//   I2_S:  float(Σ t_ri q_ti) / scale_t * weight_scale          (exact int32 sum)
//   TQ:    (Σ over blocks d_b * float(Σ in block t_ri q_ti)) / scale_t * weight_scale
// (the TQ sum runs in a different order than the CPU's, so it may differ in the last bits).
// A workgroup of 128 invocations computes 128 / LANES rows for up to TOKENS tokens: the LANES
// invocations of a row stride over its units, and each weight word is decoded once for all
// TOKENS tokens. Grid: (row groups, token groups). TOKENS is a specialization constant: 1 for the
// mat-vec pipeline (decode: no unused accumulators, less shared memory), MATMUL_TOKENS for the
// mat-mat one (prefill); the backend picks by batch size.
//
// Variants, compiled from this file with defines (cmake/vulkan.cmake) and chosen per device at
// pipeline creation (vulkan_pipelines.cpp):
//   INTEGER_DOT     four int8 products in one OpSDot with packed 4x8-bit operands
//                   (SPV_KHR_integer_dot_product / VK_KHR_shader_integer_dot_product, core in
//                   Vulkan 1.3), written through GL_EXT_spirv_intrinsics because the Debian
//                   glslang (12) predates GL_EXT_integer_dot_product; else four multiplies.
//   SUBGROUP_REDUCE a row's partial sums added with subgroupAdd (GL_KHR_shader_subgroup_arithmetic)
//                   before the shared-memory pass; else the shared-memory pass alone.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef INTEGER_DOT
#extension GL_EXT_spirv_intrinsics : require
#endif
#ifdef SUBGROUP_REDUCE
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x = 128) in;
#define WANT_MATMUL_A8_PARAMS
#include "shader_interface.h"  // the push constants `p`
#include "common.glsl"
#include "weights.glsl"
#include "ternary.glsl"

// Invocations per row: 32 on GPUs (a row's words read together), 8 on CPU devices, where fewer,
// longer strides cost less (set at pipeline creation, vulkan_pipelines.cpp). At least TOKENS.
layout(constant_id = 0) const uint LANES = 32u;
layout(constant_id = 2) const uint TOKENS = MATMUL_TOKENS;  // at most MATMUL_TOKENS
const uint ROWS = MATMUL_INVOCATIONS / LANES;

#ifdef INTEGER_DOT
// OpSDot (opcode 4450) on two words of four signed bytes; the literal 0 is
// PackedVectorFormat4x8Bit; capabilities DotProduct (6019), DotProductInput4x8BitPacked (6018).
// (SPIR-V 1.6 specification, section 3.51.6 / SPV_KHR_integer_dot_product.)
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot_packed_4x8(uint a, uint b, spirv_literal int packed_vector_format);
int dot4x8(uint a, uint b) { return sdot_packed_4x8(a, b, 0); }
#else
int dot4x8(uint a, uint b) {
    const ivec4 x = bytes_s(a), y = bytes_s(b);
    return x.x * y.x + x.y * y.y + x.z * y.z + x.w * y.w;
}
#endif

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
                    dot += dot4x8(unit.codes[r], work_u[codes + unit.word[r]]);
                }
#ifdef INTEGER_ACCUMULATOR
                acc[t] += dot;
#else
                acc[t] += unit.d * float(dot);
#endif
            }
        }
    }
#ifdef SUBGROUP_REDUCE
    // Subgroups are runs of gl_SubgroupSize consecutive invocations (the order every implementation
    // numbers a 1-D workgroup in), so where that size divides LANES each subgroup lies inside one
    // row: it adds its partial sums at once and its first invocation keeps the total. Otherwise
    // (a subgroup wider than a row) every invocation keeps its own, as in the portable path.
    const uint step = gl_SubgroupSize <= LANES ? gl_SubgroupSize : 1u;
    [[unroll]] for (uint t = 0u; t < TOKENS; ++t) {
        if (t >= n_tokens) continue;
        if (step > 1u) {
            const ACCUMULATOR s = subgroupAdd(acc[t]);
            if (gl_SubgroupInvocationID == 0u) partial[t * 128u + lid] = s;
        } else {
            partial[t * 128u + lid] = acc[t];
        }
    }
#else
    const uint step = 1u;
    [[unroll]] for (uint t = 0u; t < TOKENS; ++t) {
        if (t < n_tokens) partial[t * 128u + lid] = acc[t];
    }
#endif
    barrier();
    // Lane t of each row sums and writes token t: one barrier instead of a reduction tree.
    if (row < p.n_rows && lane < n_tokens) {
        const uint token = first_token + lane;
        ACCUMULATOR total = ACCUMULATOR(0);
        for (uint l = 0u; l < LANES; l += step) total += partial[lane * 128u + row_in_group * LANES + l];
        work_f[p.out_word + token * p.out_stride + row] = float(total) / work_f[p.scale_word + token] * p.weight_scale;
    }
}
