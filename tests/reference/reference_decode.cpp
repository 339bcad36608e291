// Weight decoding for the reference, written from formats.md §1.6 and §2.2-2.3 alone: every stored
// type becomes doubles (or ternary codes plus scales) without touching the engine's dequantizers.
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "reference/reference.h"

namespace bitnet_reference {

using bitnet::TensorType;

double half_to_double(uint16_t bits) {
    const double sign = (bits & 0x8000) ? -1.0 : 1.0;
    const int exponent = (bits >> 10) & 0x1f;
    const int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) return mantissa ? std::nan("") : sign * INFINITY;
    if (exponent == 0) return sign * std::ldexp(mantissa, -24);
    return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

double bfloat16_to_double(uint16_t bits) {
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

double round_to_half(double value) {
    if (std::isnan(value) || value == 0.0) return value;
    const double magnitude = std::fabs(value);
    int exponent;  // magnitude = m * 2^exponent with m in [0.5, 1)
    std::frexp(magnitude, &exponent);
    // Binary16 keeps 11 significant bits for normals (exponent >= -13 here) and a fixed quantum
    // of 2^-24 for subnormals. Scaling by a power of two is exact, so nearbyint rounds once.
    const int quantum_exponent = exponent >= -13 ? exponent - 11 : -24;
    double rounded = std::ldexp(std::nearbyint(std::ldexp(magnitude, -quantum_exponent)), quantum_exponent);
    if (rounded >= 65520.0) rounded = INFINITY;  // 65520 is the first value that rounds past 65504
    return std::copysign(rounded, value);
}

namespace {

uint16_t load_u16(const uint8_t *bytes) { return static_cast<uint16_t>(bytes[0] | (bytes[1] << 8)); }

double load_f32(const uint8_t *bytes) {
    float value;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}

double load_half(const uint8_t *bytes) { return half_to_double(load_u16(bytes)); }

int ternary_from_code(int code, const char *type_name) {
    if (code > 2) throw std::runtime_error(std::string("reference: ") + type_name + " code 3 is not ternary");
    return code - 1;
}

void require_multiple(int cols, int block, const char *type_name) {
    if (cols <= 0 || cols % block != 0)
        throw std::runtime_error("reference: " + std::string(type_name) + " row length " + std::to_string(cols) +
                                 " is not a multiple of " + std::to_string(block));
}

// I2_S: the whole tensor is packed in 128-element blocks of 32 bytes; element p of a block sits in
// byte p % 32 at bits (7 - 2*(p/32)) : (6 - 2*(p/32)); one f32 scale follows the packed bytes.
TernaryTensor decode_i2_s(const uint8_t *data, int rows, int cols) {
    require_multiple(cols, 128, "i2_s");
    TernaryTensor out{rows, cols, cols, {}, {}};
    const uint64_t n = static_cast<uint64_t>(rows) * cols;
    out.codes.resize(n);
    for (uint64_t k = 0; k < n; ++k) {
        const uint64_t block = k / 128, p = k % 128;
        const int code = (data[32 * block + p % 32] >> (6 - 2 * (p / 32))) & 3;
        out.codes[k] = static_cast<int8_t>(ternary_from_code(code, "i2_s"));
    }
    out.scales.assign(static_cast<size_t>(rows), load_f32(data + n / 4));
    return out;
}

// TQ2_0: 256 elements in 66 bytes: qs[64], then an f16 scale. Byte m of 32-byte chunk c holds
// elements c*128 + l*32 + m in bits 2l+1 : 2l.
TernaryTensor decode_tq2_0(const uint8_t *data, int rows, int cols) {
    require_multiple(cols, 256, "tq2_0");
    TernaryTensor out{rows, cols, 256, {}, {}};
    out.codes.resize(static_cast<size_t>(rows) * cols);
    const uint64_t n_blocks = static_cast<uint64_t>(rows) * cols / 256;
    for (uint64_t b = 0; b < n_blocks; ++b) {
        const uint8_t *block = data + 66 * b;
        int8_t *codes = out.codes.data() + 256 * b;
        for (int c = 0; c < 2; ++c)
            for (int l = 0; l < 4; ++l)
                for (int m = 0; m < 32; ++m)
                    codes[c * 128 + l * 32 + m] =
                        static_cast<int8_t>(ternary_from_code((block[c * 32 + m] >> (2 * l)) & 3, "tq2_0"));
        out.scales.push_back(load_half(block + 64));
    }
    return out;
}

// TQ1_0: 256 elements in 54 bytes: qs[48], qh[4], then an f16 scale. Each byte holds 5 trits
// (qh: 4) as a base-3 fixed-point fraction; trit n (most significant first) of byte b is
// ((uint8)(b * 3^n) * 3) >> 8.
TernaryTensor decode_tq1_0(const uint8_t *data, int rows, int cols) {
    require_multiple(cols, 256, "tq1_0");
    static const int kPow3[5] = {1, 3, 9, 27, 81};
    auto trit = [](uint8_t byte, int n) { return ((static_cast<uint8_t>(byte * kPow3[n]) * 3) >> 8) - 1; };
    TernaryTensor out{rows, cols, 256, {}, {}};
    out.codes.resize(static_cast<size_t>(rows) * cols);
    const uint64_t n_blocks = static_cast<uint64_t>(rows) * cols / 256;
    for (uint64_t b = 0; b < n_blocks; ++b) {
        const uint8_t *qs = data + 54 * b, *qh = qs + 48;
        int8_t *codes = out.codes.data() + 256 * b;
        for (int n = 0; n < 5; ++n)
            for (int m = 0; m < 32; ++m) codes[32 * n + m] = static_cast<int8_t>(trit(qs[m], n));
        for (int n = 0; n < 5; ++n)
            for (int m = 0; m < 16; ++m) codes[160 + 16 * n + m] = static_cast<int8_t>(trit(qs[32 + m], n));
        for (int n = 0; n < 4; ++n)
            for (int j = 0; j < 4; ++j) codes[240 + 4 * n + j] = static_cast<int8_t>(trit(qh[j], n));
        out.scales.push_back(load_half(qs + 52));
    }
    return out;
}

// Q8_0: 32 elements in 34 bytes: f16 scale, then int8[32].
void decode_q8_0(const uint8_t *data, uint64_t n, double *out) {
    for (uint64_t b = 0; b < n / 32; ++b) {
        const uint8_t *block = data + 34 * b;
        const double d = load_half(block);
        for (int j = 0; j < 32; ++j) out[32 * b + j] = static_cast<int8_t>(block[2 + j]) * d;
    }
}

// Q4_0: 32 elements in 18 bytes: f16 scale, then 16 bytes; low nibbles are elements 0-15, high
// nibbles 16-31, each offset by 8.
void decode_q4_0(const uint8_t *data, uint64_t n, double *out) {
    for (uint64_t b = 0; b < n / 32; ++b) {
        const uint8_t *block = data + 18 * b;
        const double d = load_half(block);
        for (int j = 0; j < 16; ++j) {
            out[32 * b + j] = ((block[2 + j] & 0x0f) - 8) * d;
            out[32 * b + j + 16] = ((block[2 + j] >> 4) - 8) * d;
        }
    }
}

// Q6_K: 256 elements in 210 bytes: ql[128], qh[64], int8 scales[16], f16 d. Two halves of 128;
// each element is 4 low bits from ql and 2 high bits from qh, minus 32, times d * its scale.
void decode_q6_k(const uint8_t *data, uint64_t n, double *out) {
    for (uint64_t b = 0; b < n / 256; ++b) {
        const uint8_t *block = data + 210 * b;
        const double d = load_half(block + 208);
        for (int half = 0; half < 2; ++half) {
            const uint8_t *ql = block + 64 * half, *qh = block + 128 + 32 * half;
            const int8_t *scales = reinterpret_cast<const int8_t *>(block + 192) + 8 * half;
            double *y = out + 256 * b + 128 * half;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * scales[is + 0] * q1;
                y[l + 32] = d * scales[is + 2] * q2;
                y[l + 64] = d * scales[is + 4] * q3;
                y[l + 96] = d * scales[is + 6] * q4;
            }
        }
    }
}

// The quantizer fallback types, element by element (formats.md §1.6 "Fallback types"): each
// function gives element e of one block, so the reference shares no loop structure with the
// engine's block decoders. Arithmetic in double.

uint32_t load_u32(const uint8_t *bytes) {
    return static_cast<uint32_t>(bytes[0]) | (static_cast<uint32_t>(bytes[1]) << 8) |
           (static_cast<uint32_t>(bytes[2]) << 16) | (static_cast<uint32_t>(bytes[3]) << 24);
}

// Q4_1 (20 bytes): d, m, qs[16]; nibble j % 16 of qs (low for e < 16): code * d + m.
double q4_1_at(const uint8_t *block, int e) {
    const int nibble = e < 16 ? (block[4 + e] & 0x0f) : (block[4 + e - 16] >> 4);
    return nibble * load_half(block) + load_half(block + 2);
}

// Q5_0 (22 bytes) and Q5_1 (24 bytes): a nibble as Q4_* plus bit e of the u32 qh as bit 4.
int q5_code(const uint8_t *qh, const uint8_t *qs, int e) {
    const int nibble = e < 16 ? (qs[e] & 0x0f) : (qs[e - 16] >> 4);
    return nibble + 16 * static_cast<int>((load_u32(qh) >> e) & 1u);
}
double q5_0_at(const uint8_t *block, int e) { return (q5_code(block + 2, block + 6, e) - 16) * load_half(block); }
double q5_1_at(const uint8_t *block, int e) {
    return q5_code(block + 4, block + 8, e) * load_half(block) + load_half(block + 2);
}

// Q2_K (84 bytes): scales[16], qs[64], d, dmin. Element e: half h = e / 128, shift 2 * ((e % 128)
// / 32), byte qs[32 h + e % 32]; sub-block e / 16 with scale nibble and min nibble.
double q2_k_at(const uint8_t *block, int e) {
    const int h = e / 128, shift = 2 * ((e % 128) / 32);
    const int code = (block[16 + 32 * h + e % 32] >> shift) & 3;
    const uint8_t sc = block[e / 16];
    return load_half(block + 80) * (sc & 0x0f) * code - load_half(block + 82) * (sc >> 4);
}

// Q3_K (110 bytes): hmask[32], qs[64], 12 scale bytes, d. Low bits as Q2_K (qs at 32); bit k =
// e / 32 of hmask[e % 32] clear subtracts 4. The 6-bit scale of sub-block i: low nibble from byte
// i % 8 (low half for i < 8, high half after), top 2 bits from byte 8 + i % 4 at 2 * (i / 4); minus 32.
double q3_k_at(const uint8_t *block, int e) {
    const int h = e / 128, shift = 2 * ((e % 128) / 32);
    const int low2 = (block[32 + 32 * h + e % 32] >> shift) & 3;
    const bool high = (block[e % 32] >> (e / 32)) & 1;
    const int i = e / 16;
    const uint8_t *sc = block + 96;
    const int scale_low = i < 8 ? (sc[i] & 0x0f) : (sc[i - 8] >> 4);
    const int scale_top = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
    return load_half(block + 108) * ((scale_low | (scale_top << 4)) - 32) * (low2 - (high ? 0 : 4));
}

// Q4_K / Q5_K: the 6-bit (scale, min) of sub-block j (0..7) from the 12 bytes q.
void k4_scale_min(const uint8_t *q, int j, int *scale, int *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K (144 bytes): d, dmin, 12 scale bytes, qs[128]. Sub-block j = e / 32 (32 elements); chunk
// c = e / 64 uses qs[32 c .. 32 c + 31], low nibbles for even j, high for odd.
double q4_k_at(const uint8_t *block, int e) {
    const int j = e / 32, c = e / 64;
    const uint8_t byte = block[16 + 32 * c + e % 32];
    const int code = (j % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
    int scale, min;
    k4_scale_min(block + 4, j, &scale, &min);
    return load_half(block) * scale * code - load_half(block + 2) * min;
}

// Q5_K (176 bytes): d, dmin, 12 scale bytes, qh[32], qs[128]; as Q4_K plus bit j of qh[e % 32] as +16.
double q5_k_at(const uint8_t *block, int e) {
    const int j = e / 32, c = e / 64;
    const uint8_t byte = block[48 + 32 * c + e % 32];
    const int code = ((j % 2 == 0) ? (byte & 0x0f) : (byte >> 4)) + 16 * ((block[16 + e % 32] >> j) & 1);
    int scale, min;
    k4_scale_min(block + 4, j, &scale, &min);
    return load_half(block) * scale * code - load_half(block + 2) * min;
}

// IQ4_NL (18 bytes): d, qs[16]; nibbles as Q4_0 index the grid kvalues_iq4nl (ggml-common.h).
double iq4_nl_at(const uint8_t *block, int e) {
    static const int kGrid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    const int nibble = e < 16 ? (block[2 + e] & 0x0f) : (block[2 + e - 16] >> 4);
    return load_half(block) * kGrid[nibble];
}

using ElementDecoder = double (*)(const uint8_t *block, int e);

void decode_blocks(const uint8_t *data, uint64_t n, int block_elements, int block_bytes, ElementDecoder at,
                   double *out) {
    for (uint64_t i = 0; i < n; ++i)
        out[i] = at(data + (i / block_elements) * block_bytes, static_cast<int>(i % block_elements));
}

}  // namespace

TernaryTensor decode_ternary(TensorType type, const uint8_t *data, int rows, int cols) {
    switch (type) {
        case TensorType::I2_S: return decode_i2_s(data, rows, cols);
        case TensorType::TQ2_0: return decode_tq2_0(data, rows, cols);
        case TensorType::TQ1_0: return decode_tq1_0(data, rows, cols);
        default: throw std::runtime_error("reference: decode_ternary on a non-ternary type");
    }
}

std::vector<double> decode_dense(TensorType type, const uint8_t *data, int rows, int cols) {
    const uint64_t n = static_cast<uint64_t>(rows) * cols;
    std::vector<double> out(n);
    switch (type) {
        case TensorType::F32:
            for (uint64_t i = 0; i < n; ++i) out[i] = load_f32(data + 4 * i);
            break;
        case TensorType::F16:
            for (uint64_t i = 0; i < n; ++i) out[i] = load_half(data + 2 * i);
            break;
        case TensorType::BF16:
            for (uint64_t i = 0; i < n; ++i) out[i] = bfloat16_to_double(load_u16(data + 2 * i));
            break;
        case TensorType::Q8_0: require_multiple(cols, 32, "q8_0"); decode_q8_0(data, n, out.data()); break;
        case TensorType::Q4_0: require_multiple(cols, 32, "q4_0"); decode_q4_0(data, n, out.data()); break;
        case TensorType::Q6_K: require_multiple(cols, 256, "q6_k"); decode_q6_k(data, n, out.data()); break;
        case TensorType::Q4_1: require_multiple(cols, 32, "q4_1"); decode_blocks(data, n, 32, 20, q4_1_at, out.data()); break;
        case TensorType::Q5_0: require_multiple(cols, 32, "q5_0"); decode_blocks(data, n, 32, 22, q5_0_at, out.data()); break;
        case TensorType::Q5_1: require_multiple(cols, 32, "q5_1"); decode_blocks(data, n, 32, 24, q5_1_at, out.data()); break;
        case TensorType::Q2_K: require_multiple(cols, 256, "q2_k"); decode_blocks(data, n, 256, 84, q2_k_at, out.data()); break;
        case TensorType::Q3_K: require_multiple(cols, 256, "q3_k"); decode_blocks(data, n, 256, 110, q3_k_at, out.data()); break;
        case TensorType::Q4_K: require_multiple(cols, 256, "q4_k"); decode_blocks(data, n, 256, 144, q4_k_at, out.data()); break;
        case TensorType::Q5_K: require_multiple(cols, 256, "q5_k"); decode_blocks(data, n, 256, 176, q5_k_at, out.data()); break;
        case TensorType::IQ4_NL: require_multiple(cols, 32, "iq4_nl"); decode_blocks(data, n, 32, 18, iq4_nl_at, out.data()); break;
        case TensorType::I2_S:
        case TensorType::TQ1_0:
        case TensorType::TQ2_0: {
            const TernaryTensor ternary = decode_ternary(type, data, rows, cols);
            const int blocks_per_row = cols / ternary.block;
            for (uint64_t i = 0; i < n; ++i) {
                const uint64_t row = i / cols, col = i % cols;
                out[i] = ternary.codes[i] * ternary.scales[row * blocks_per_row + col / ternary.block];
            }
            break;
        }
        default:
            throw std::runtime_error("reference: unsupported tensor type " + std::to_string(static_cast<int>(type)));
    }
    return out;
}

}  // namespace bitnet_reference
