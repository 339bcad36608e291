#version 450
// BitLinear with TQ2_0 weights; see matmul_a8.glsl.
#extension GL_GOOGLE_include_directive : require
#define FORMAT TYPE_TQ2
#include "matmul_a8.glsl"
