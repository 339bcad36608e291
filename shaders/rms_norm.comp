#version 450
// RMSNorm per token: y = x * (1 / sqrt(mean(x^2) + eps)) * gamma, gamma from the weight page.
// The CPU sums squares in double; here in float, 128 strided partial sums then their sum.
// In place is fine: each invocation reads and writes only its own elements.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 128) in;
#include "common.glsl"
layout(set = 1, binding = 0) readonly buffer Gamma { float gamma_f[]; };

#define WANT_RMS_NORM_PARAMS
#include "shader_interface.h"  // the push constants `p`

shared float partial[128];

void main() {
    const uint token = gl_WorkGroupID.x, lane = gl_LocalInvocationID.x;
    const uint x = p.in_word + token * p.in_stride, y = p.out_word + token * p.out_stride;
    float sum = 0.0;
    for (uint i = lane; i < p.n; i += 128u) sum += work_f[x + i] * work_f[x + i];
    partial[lane] = sum;
    barrier();
    // Every invocation adds the 128 partial sums in the same order (one barrier, no tree).
    float total = 0.0;
    for (uint i = 0u; i < 128u; ++i) total += partial[i];
    const float inv_rms = 1.0 / sqrt(total / float(p.n) + p.eps);
    for (uint i = lane; i < p.n; i += 128u) {
        precise float value = work_f[x + i] * inv_rms * gamma_f[p.gamma_word + i];
        work_f[y + i] = value;
    }
}
