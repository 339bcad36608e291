#version 450
// BitLinear with I2_S weights; see matmul_a8.glsl.
#extension GL_GOOGLE_include_directive : require
#define FORMAT TYPE_I2S
#define INTEGER_ACCUMULATOR 1  // I2_S has one scale per tensor: the whole row sums exactly in int32
#include "matmul_a8.glsl"
