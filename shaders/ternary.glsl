// Ternary weight formats, decoded in units of one 32-bit word of codes (formats.md §1.6, §2.2).
// A unit yields up to five runs of four consecutive elements: their ternary values (-1, 0, +1;
// a stray code 3 counts +2, as in the CPU kernels) packed as four signed bytes in one word (the
// operand of a packed int8 dot product, SPV_KHR_integer_dot_product), and the index of the int8
// activation word (four elements) each run multiplies. `d` is the block scale (TQ) or 1 (I2_S).
// The type ids TYPE_I2S, TYPE_TQ2 and TYPE_TQ1 come from shader_interface.h.

// Runs per unit: TQ1_0 units have five (the qh unit's fifth counts nothing), the others four.
#define TERNARY_RUNS(type) ((type) == TYPE_TQ1 ? 5u : 4u)

struct TernaryUnit {
    uint codes[5];  // four signed bytes each
    uint word[5];
    float d;
};

// Four stored 2-bit codes c (one per byte, 0..3) to four signed bytes c - 1, without carries
// between bytes: set each byte's top bit, subtract one, flip the top bit back (0 -> 0xff = -1).
uint codes_minus_one(uint c) { return ((c | 0x80808080u) - 0x01010101u) ^ 0x80808080u; }

// I2_S: 128-element blocks of 32 bytes; element p of a block sits in byte p % 32, bits
// 7-2(p/32) : 6-2(p/32). Unit u is word u of the row: bytes 4(u%8) .. +3 of block u/8, whose
// group g holds elements 32g + 4(u%8) .. +3.
void decode_i2s(uint row_byte, uint u, out TernaryUnit unit) {
    uint w = weight_u[(row_byte >> 2) + u];
    uint block = u >> 3, lane_word = u & 7u;
    [[unroll]] for (uint g = 0u; g < 4u; ++g) {
        unit.codes[g] = codes_minus_one((w >> (6u - 2u * g)) & 0x03030303u);
        unit.word[g] = block * 32u + g * 8u + lane_word;
    }
    unit.d = 1.0;
}

// TQ2_0: 256-element blocks of 66 bytes (qs[64], d f16). Byte m of 32-byte half c holds elements
// c*128 + 32l + m at bits 2l+1 : 2l. Unit u: word u%16 of block u/16's qs.
void decode_tq2(uint row_byte, uint u, out TernaryUnit unit) {
    uint block = u >> 4, qs_word = u & 15u, half_index = qs_word >> 3, m_word = qs_word & 7u;
    uint base = row_byte + block * 66u;
    uint w = load_u32(base + 4u * qs_word);
    [[unroll]] for (uint l = 0u; l < 4u; ++l) {
        unit.codes[l] = codes_minus_one((w >> (2u * l)) & 0x03030303u);
        unit.word[l] = block * 64u + half_index * 32u + l * 8u + m_word;
    }
    unit.d = load_f16(base + 64u);
}

// TQ1_0: 256-element blocks of 54 bytes (qs[48], qh[4], d f16), five base-3 trits per byte, trit n
// read as ((byte * 3^n) mod 256 * 3) >> 8. qs[m] (m < 32), trit n -> element 32n + m;
// qs[32+m], trit n -> 160 + 16n + m; qh[j], trit n < 4 -> 240 + 4n + j. Units 0..7 are words of
// qs[0..31], 8..11 words of qs[32..47], 12 the qh word.
uint trit(uint byte_value, uint n) {
    const uint pow3[5] = uint[5](1u, 3u, 9u, 27u, 81u);
    return (((byte_value * pow3[n]) & 0xffu) * 3u) >> 8;
}

void decode_tq1(uint row_byte, uint u, out TernaryUnit unit) {
    uint block = u / 13u, k = u % 13u;
    uint base = row_byte + block * 54u;
    ivec4 b = bytes_u(load_u32(base + 4u * k));
    [[unroll]] for (uint n = 0u; n < 5u; ++n) {
        const uint trits = trit(b.x, n) | (trit(b.y, n) << 8) | (trit(b.z, n) << 16) | (trit(b.w, n) << 24);
        unit.codes[n] = codes_minus_one(trits);
        unit.word[n] = block * 64u + (k < 8u ? 8u * n + k : (k < 12u ? 40u + 4u * n + (k - 8u) : 60u + n));
    }
    if (k == 12u) {
        // qh has four trits: the fifth run counts nothing (kept so that every unit has five runs).
        unit.codes[4] = 0u;
        unit.word[4] = block * 64u + 60u;
    }
    unit.d = load_f16(base + 52u);
}

void decode_ternary(uint type, uint row_byte, uint u, out TernaryUnit unit) {
    if (type == TYPE_I2S) {
        decode_i2s(row_byte, u, unit);
    } else if (type == TYPE_TQ2) {
        decode_tq2(row_byte, u, unit);
    } else {
        decode_tq1(row_byte, u, unit);
    }
}
