#version 450
// into += from over every element of the batch.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

#define WANT_ADD_PARAMS
#include "shader_interface.h"  // the push constants `p`

void main() {
    const uint i = flat_index(256u);
    if (i >= p.n) return;
    work_f[p.into_word + i] += work_f[p.from_word + i];
}
