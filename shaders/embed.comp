#version 450
// The token embedding lookup on the device; see matmul_float.glsl (EMBED).
#extension GL_GOOGLE_include_directive : require
#define EMBED 1
#include "matmul_float.glsl"
