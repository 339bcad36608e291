#version 450
// BitLinear with TQ1_0 weights; see matmul_a8.glsl.
#extension GL_GOOGLE_include_directive : require
#define FORMAT TYPE_TQ1
#include "matmul_a8.glsl"
