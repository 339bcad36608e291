// Declarations every shader shares. Set 0 is the context's work buffer: activation rows, int8
// activation codes, per-decode metadata and the RoPE table, addressed in 32-bit words through
// offsets in the push constants. Two views of the same binding (floats and raw words) let one
// buffer hold both; no shader reads a word through one view after writing it through the other.
layout(set = 0, binding = 0) buffer WorkFloats { float work_f[]; };
layout(set = 0, binding = 0) buffer WorkWords { uint work_u[]; };
layout(set = 0, binding = 0) buffer WorkVectors { vec4 work_v[]; };  // activation rows are 16-byte aligned

// Elementwise shaders run on a 2-D grid when one dimension would exceed the device's group
// count limit; this is the flat invocation index.
uint flat_index(uint group_size) {
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * group_size + gl_LocalInvocationID.x;
}
