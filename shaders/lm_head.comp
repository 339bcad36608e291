#version 450
// The lm_head: logits of the batch's output entries into the readback buffer; see matmul_float.glsl.
#extension GL_GOOGLE_include_directive : require
#define LM_HEAD 1
#include "matmul_float.glsl"
