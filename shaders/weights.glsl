// The weight page (set 1), read as 32-bit words, and byte-level loads for the block formats whose
// blocks are not word-aligned (TQ2_0: 66 bytes, TQ1_0: 54, Q8_0: 34, Q4_0: 18, Q6_K: 210; all even).
layout(set = 1, binding = 0) readonly buffer WeightWords { uint weight_u[]; };
layout(set = 1, binding = 0) readonly buffer WeightFloats { float weight_f[]; };

// Four bytes starting at an even byte offset, little-endian.
uint load_u32(uint byte_offset) {
    uint w = byte_offset >> 2;
    if ((byte_offset & 2u) == 0u) return weight_u[w];
    return (weight_u[w] >> 16) | (weight_u[w + 1u] << 16);
}

uint load_u16(uint byte_offset) { return (weight_u[byte_offset >> 2] >> ((byte_offset & 2u) * 8u)) & 0xffffu; }

float load_f16(uint byte_offset) { return unpackHalf2x16(load_u16(byte_offset)).x; }

// The four bytes of a word as unsigned / signed values.
ivec4 bytes_u(uint w) { return ivec4(w & 0xffu, (w >> 8) & 0xffu, (w >> 16) & 0xffu, w >> 24); }
ivec4 bytes_s(uint w) {
    int s = int(w);
    return ivec4(bitfieldExtract(s, 0, 8), bitfieldExtract(s, 8, 8), bitfieldExtract(s, 16, 8), bitfieldExtract(s, 24, 8));
}

int load_s8(uint byte_offset) { return bitfieldExtract(int(weight_u[byte_offset >> 2]), int((byte_offset & 3u) * 8u), 8); }
