#version 450
// Per-token int8 activations (formats.md §2.4), as the CPU kernels compute them:
// scale = 127 / max(max|x|, 1e-5) in float, code = clamp(roundEven(x * scale), -128, 127), codes
// packed four to a word and zero past `cols` up to `padded_words`. One workgroup per token.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 128) in;
#include "common.glsl"

#define WANT_QUANTIZE_PARAMS
#include "shader_interface.h"  // the push constants `p`

shared float partial_max[128];

void main() {
    const uint token = gl_WorkGroupID.x, lane = gl_LocalInvocationID.x;
    const uint row = p.in_word + token * p.in_stride;
    float max_abs = 0.0;
    for (uint i = lane; i < p.cols; i += 128u) max_abs = max(max_abs, abs(work_f[row + i]));
    partial_max[lane] = max_abs;
    barrier();
    // Every invocation reads the 128 partial maxima (one barrier rather than a tree of them).
    float m = 0.0;
    for (uint i = 0u; i < 128u; ++i) m = max(m, partial_max[i]);
    const float scale = 127.0 / (m > 1e-5 ? m : 1e-5);
    for (uint w = lane; w < p.padded_words; w += 128u) {
        uint packed = 0u;
        for (uint j = 0u; j < 4u; ++j) {
            const uint i = 4u * w + j;
            if (i < p.cols) {
                const int code = int(clamp(roundEven(work_f[row + i] * scale), -128.0, 127.0));
                packed |= (uint(code) & 0xffu) << (8u * j);
            }
        }
        work_u[p.codes_word + token * p.codes_stride + w] = packed;
    }
    if (lane == 0u) work_f[p.scale_word + token] = scale;
}
