#version 450
// Float projections into the work buffer; see matmul_float.glsl.
#extension GL_GOOGLE_include_directive : require
#include "matmul_float.glsl"
