// float to IEEE half, rounding to nearest even exactly as the CPU's float_to_half does
// (lib/util/half.h; packHalf2x16's rounding is not specified).
uint float_to_half(float value) {
    const uint bits = floatBitsToUint(value);
    const uint sign = (bits >> 16) & 0x8000u;
    uint a = bits & 0x7fffffffu;
    if (a >= 0x7f800000u) return sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u);
    if (a >= 0x477ff000u) return sign | 0x7c00u;
    if (a < 0x38800000u) {
        // Subnormal or zero: adding 0.5 rounds at 2^-24 granularity.
        const float shifted = uintBitsToFloat(a) + 0.5;
        return sign | (floatBitsToUint(shifted) - 0x3f000000u);
    }
    a += 0xc8000fffu + ((a >> 13) & 1u);
    return sign | (a >> 13);
}
