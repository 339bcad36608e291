// Tests of the scalar reference (de)quantizers (lib/tensor/quantize.cpp) and lib/util/half.h.
//
// The library decoders are checked against INDEPENDENT decoders written here straight from
// docs/formats.md §1.6 and §2.2-2.3. They are deliberately structured differently:
// every field is read one bit at a time from a flat bit position computed per element, floats are
// assembled with ldexp in double from their sign/exponent/mantissa fields, and TQ1_0 is decoded by
// inverting its fixed-point packing with integer division instead of ggml's multiply-and-wrap.
// All decoded values are exact products (at most 24 significant bits), so library and test decoders
// must agree bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/quantize.h"
#include "tensor/tensor_type.h"
#include "util/error.h"
#include "util/half.h"

using bitnet::TensorType;

namespace {

const TensorType kAllTypes[] = {TensorType::F32,  TensorType::F16,   TensorType::BF16,
                                TensorType::Q8_0, TensorType::Q4_0,  TensorType::Q6_K,
                                TensorType::TQ1_0, TensorType::TQ2_0, TensorType::I2_S};

std::string name_of(TensorType type) { return bitnet::tensor_type_name(type); }

// ------------------------------------------------------------------------------------------------
// Bit-level readers and float assembly, independent of the library
// ------------------------------------------------------------------------------------------------

// Bit `pos` of a byte array, bit 0 = least significant bit of byte 0.
int bit_at(const uint8_t *p, uint64_t pos) { return (p[pos / 8] >> (pos % 8)) & 1; }

// Unsigned field of `width` bits starting at bit `pos`, gathered one bit at a time (LSB first).
uint32_t field(const uint8_t *p, uint64_t pos, int width) {
    uint32_t value = 0;
    for (int i = 0; i < width; ++i) value += static_cast<uint32_t>(bit_at(p, pos + i)) << i;
    return value;
}

uint32_t byte_field(const uint8_t *p, uint64_t byte) { return field(p, 8 * byte, 8); }
int signed_byte(const uint8_t *p, uint64_t byte) {
    const int v = static_cast<int>(byte_field(p, byte));
    return v >= 128 ? v - 256 : v;
}

// IEEE-754 values from their fields, computed in double with ldexp.
double float_from_fields(uint32_t bits, int exp_bits, int mant_bits) {
    const int bias = (1 << (exp_bits - 1)) - 1;
    const uint32_t mant = bits & ((1u << mant_bits) - 1);
    const uint32_t exponent = (bits >> mant_bits) & ((1u << exp_bits) - 1);
    const bool negative = (bits >> (mant_bits + exp_bits)) & 1;
    double magnitude;
    if (exponent == (1u << exp_bits) - 1) {
        magnitude = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    } else if (exponent == 0) {
        magnitude = std::ldexp(static_cast<double>(mant), 1 - bias - mant_bits);  // subnormal / zero
    } else {
        magnitude = std::ldexp(static_cast<double>(mant + (1u << mant_bits)), static_cast<int>(exponent) - bias - mant_bits);
    }
    return negative ? -magnitude : magnitude;
}
double f16_value(uint32_t bits) { return float_from_fields(bits, 5, 10); }
double bf16_value(uint32_t bits) { return float_from_fields(bits, 8, 7); }
double f32_value(uint32_t bits) { return float_from_fields(bits, 8, 23); }

double f16_at(const uint8_t *p, uint64_t byte) { return f16_value(field(p, 8 * byte, 16)); }
double f32_at(const uint8_t *p, uint64_t byte) { return f32_value(field(p, 8 * byte, 32)); }

uint32_t bits_of(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}
float float_of(uint32_t b) {
    float v;
    std::memcpy(&v, &b, 4);
    return v;
}

bool same_float(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return bits_of(a) == bits_of(b);
}

// ------------------------------------------------------------------------------------------------
// Test decoders: value of element `e` (0-based within the block) of one block.
// ------------------------------------------------------------------------------------------------

// Q8_0: d f16 @0, int8 qs[32] @2; x = qs[e] * d.
double ref_q8_0(const uint8_t *blk, int e) { return signed_byte(blk, 2 + e) * f16_at(blk, 0); }

// Q4_0: d f16 @0; element e < 16 is the low nibble of qs[e], e >= 16 the high nibble of qs[e-16].
double ref_q4_0(const uint8_t *blk, int e) {
    const uint64_t pos = 8 * (2 + e % 16) + 4 * (e / 16);
    return (static_cast<int>(field(blk, pos, 4)) - 8) * f16_at(blk, 0);
}

// Q6_K, per element: half h = e/128, r = e%128, k = r/32 (which of y[l], y[l+32], y[l+64],
// y[l+96]), l = r%32. Low 4 bits: ql[64h + l + 32*(k%2)], nibble k/2. High 2 bits:
// qh[32h + l] bits [2k+1:2k]. Scale: int8 scales[e/16] @192. d: f16 @208.
int ref_q6_k_code(const uint8_t *blk, int e) {
    const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
    const uint32_t low = field(blk, 8 * (64 * h + l + 32 * (k % 2)) + 4 * (k / 2), 4);
    const uint32_t high = field(blk, 8 * (128 + 32 * h + l) + 2 * k, 2);
    return static_cast<int>(low | (high << 4)) - 32;
}
double ref_q6_k_step(const uint8_t *blk, int e) { return f16_at(blk, 208) * signed_byte(blk, 192 + e / 16); }
double ref_q6_k(const uint8_t *blk, int e) { return ref_q6_k_step(blk, e) * ref_q6_k_code(blk, e); }

// TQ2_0: chunk c = e/128, lane l = (e%128)/32, m = e%32; code in bits [2l+1:2l] of qs[32c + m];
// d f16 @64; x = (code - 1) * d.
double ref_tq2_0(const uint8_t *blk, int e) {
    const int c = e / 128, l = (e % 128) / 32, m = e % 32;
    return (static_cast<int>(field(blk, 8 * (32 * c + m) + 2 * l, 2)) - 1) * f16_at(blk, 64);
}

// TQ1_0: byte = ceil(q*256/243) with q the 5-trit number (first trit most significant), so
// q = floor(byte*243/256); trit n is base-3 digit 4-n of q. (Exact for every byte value: the
// digits of floor(byte*243/256) are the first five base-3 digits of byte/256, which is what
// ggml's multiply-and-wrap extracts.)
int ref_tq1_0_trit(uint32_t byte, int n) {
    uint32_t q = byte * 243 / 256;
    for (int skip = 0; skip < 4 - n; ++skip) q /= 3;
    return static_cast<int>(q % 3);
}
double ref_tq1_0(const uint8_t *blk, int e) {
    int byte, n;
    if (e < 160) {
        byte = e % 32, n = e / 32;  // qs[0..31]
    } else if (e < 240) {
        byte = 32 + (e - 160) % 16, n = (e - 160) / 16;  // qs[32..47]
    } else {
        byte = 48 + (e - 240) % 4, n = (e - 240) / 4;  // qh[0..3]
    }
    return (ref_tq1_0_trit(byte_field(blk, byte), n) - 1) * f16_at(blk, 52);
}

// I2_S: flat index k; block b = k/128, p = k%128; code in bits [7-2g : 6-2g] of byte 32b + p%32
// where g = p/32; value = (code - 1) * scale (code 3 -> +2, the library's documented choice).
int ref_i2s_code(const uint8_t *data, uint64_t k) {
    const uint64_t b = k / 128, p = k % 128;
    return static_cast<int>(field(data, 8 * (32 * b + p % 32) + (6 - 2 * (p / 32)), 2));
}

// Decode a whole tensor with the test decoders.
std::vector<float> ref_decode(TensorType type, const std::vector<uint8_t> &bytes, uint64_t ne0, uint64_t rows) {
    const uint64_t n = ne0 * rows;
    std::vector<float> out(n);
    const uint8_t *p = bytes.data();
    for (uint64_t k = 0; k < n; ++k) {
        double v = 0;
        switch (type) {
            case TensorType::F32: v = f32_at(p, 4 * k); break;
            case TensorType::F16: v = f16_at(p, 2 * k); break;
            case TensorType::BF16: v = bf16_value(field(p, 16 * k, 16)); break;
            case TensorType::Q8_0: v = ref_q8_0(p + 34 * (k / 32), static_cast<int>(k % 32)); break;
            case TensorType::Q4_0: v = ref_q4_0(p + 18 * (k / 32), static_cast<int>(k % 32)); break;
            case TensorType::Q6_K: v = ref_q6_k(p + 210 * (k / 256), static_cast<int>(k % 256)); break;
            case TensorType::TQ1_0: v = ref_tq1_0(p + 54 * (k / 256), static_cast<int>(k % 256)); break;
            case TensorType::TQ2_0: v = ref_tq2_0(p + 66 * (k / 256), static_cast<int>(k % 256)); break;
            case TensorType::I2_S: v = (ref_i2s_code(p, k) - 1) * f32_at(p, n / 4); break;
            default:  // the decode-only fallback types: test_fallback_codecs.cpp
                ADD_FAILURE() << "no test decoder for " << bitnet::tensor_type_name(type);
                return out;
        }
        out[k] = static_cast<float>(v);
    }
    return out;
}

// ------------------------------------------------------------------------------------------------
// Library wrappers
// ------------------------------------------------------------------------------------------------

uint64_t total_bytes(TensorType type, uint64_t ne0, uint64_t rows) {
    uint64_t bytes = 0;
    EXPECT_TRUE(bitnet::tensor_total_bytes(type, ne0 * rows, ne0, &bytes));
    return bytes;
}

// Exactly sized buffers, so AddressSanitizer catches any write or read past the tensor.
std::vector<uint8_t> quantize(TensorType type, const std::vector<float> &x, uint64_t ne0, uint64_t rows) {
    std::vector<uint8_t> bytes(total_bytes(type, ne0, rows), 0xCD);
    bitnet::quantize_tensor(type, x.data(), ne0, rows, bytes.data());
    return bytes;
}

std::vector<float> dequantize(TensorType type, const std::vector<uint8_t> &bytes, uint64_t ne0, uint64_t rows,
                              uint64_t first_row = 0, uint64_t n_rows = UINT64_MAX) {
    if (n_rows == UINT64_MAX) n_rows = rows - first_row;
    std::vector<float> out(ne0 * n_rows);
    bitnet::dequantize_rows(type, bytes.data(), ne0, rows, first_row, n_rows, out.data());
    return out;
}

void expect_bitwise_equal(const std::vector<float> &a, const std::vector<float> &b, const std::string &what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    int reported = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!same_float(a[i], b[i])) {
            ADD_FAILURE() << what << ": element " << i << " differs: " << a[i] << " (0x" << std::hex << bits_of(a[i])
                          << ") vs " << b[i] << " (0x" << bits_of(b[i]) << std::dec << ")";
            if (++reported == 5) return;
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Inputs
// ------------------------------------------------------------------------------------------------

struct Shape {
    uint64_t ne0, rows;
};

std::vector<Shape> shapes_for(TensorType type) {
    switch (bitnet::tensor_type_traits(type).block_elements) {
        case 1: return {{1, 1}, {7, 3}, {33, 5}};
        case 32: return {{32, 1}, {96, 3}, {160, 5}};
        case 128: return {{128, 1}, {256, 3}, {384, 5}, {1024, 7}};
        default: return {{256, 1}, {512, 3}, {768, 5}};
    }
}

// Gaussian values with a different magnitude per row, plus a zero block and an outlier in some rows.
std::vector<float> general_input(TensorType type, Shape s, std::mt19937 &rng) {
    const uint64_t block = bitnet::tensor_type_traits(type).block_elements;
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> exponent(-2.0f, 2.0f);
    std::vector<float> x(s.ne0 * s.rows);
    for (uint64_t r = 0; r < s.rows; ++r) {
        const float row_scale = std::pow(10.0f, exponent(rng));
        for (uint64_t c = 0; c < s.ne0; ++c) x[r * s.ne0 + c] = normal(rng) * row_scale;
        if (r % 2 == 1 && s.ne0 >= 2 * block) {
            for (uint64_t c = 0; c < block; ++c) x[r * s.ne0 + c] = 0.0f;  // an all-zero block
        }
        if (r % 3 == 2) x[r * s.ne0 + s.ne0 - 1] = 20.0f * row_scale;  // an outlier
    }
    return x;
}

// Ternary values times a scale. TQ types: one f16-exact scale k * 2^-e per 256-block (some blocks
// all zero); I2_S: one f32 scale for the whole tensor.
std::vector<float> ternary_input(TensorType type, Shape s, std::mt19937 &rng) {
    std::uniform_int_distribution<int> trit(-1, 1);
    std::uniform_int_distribution<int> mantissa(1024, 2047);
    std::uniform_int_distribution<int> shift(6, 16);
    std::vector<float> x(s.ne0 * s.rows);
    const float tensor_scale = std::uniform_real_distribution<float>(0.001f, 3.0f)(rng);
    const uint64_t block = type == TensorType::I2_S ? 128 : 256;
    for (uint64_t b = 0; b < x.size() / block; ++b) {
        const float scale = type == TensorType::I2_S ? tensor_scale
                                                      : static_cast<float>(std::ldexp(mantissa(rng), -shift(rng)));
        const bool zero_block = type != TensorType::I2_S && b % 5 == 3;
        for (uint64_t e = 0; e < block; ++e) {
            x[b * block + e] = zero_block ? 0.0f : static_cast<float>(trit(rng)) * scale;
        }
    }
    return x;
}

bool is_ternary(TensorType type) { return bitnet::tensor_type_traits(type).ternary; }

// ------------------------------------------------------------------------------------------------
// Error bounds against the input, per type
// ------------------------------------------------------------------------------------------------

void check_error(TensorType type, const std::vector<float> &x, const std::vector<uint8_t> &bytes,
                 const std::vector<float> &y, uint64_t ne0, const std::string &what) {
    ASSERT_EQ(x.size(), y.size());
    const uint64_t block = bitnet::tensor_type_traits(type).block_elements;
    const uint32_t block_bytes = bitnet::tensor_type_traits(type).block_bytes;
    int failures = 0;
    auto fail_at = [&](uint64_t i, double bound) {
        ADD_FAILURE() << what << ": element " << i << " input " << x[i] << " decoded " << y[i] << " error "
                      << std::fabs(static_cast<double>(x[i]) - y[i]) << " > bound " << bound;
        ++failures;
    };
    for (uint64_t b = 0; b * block < x.size() && failures < 5; ++b) {
        const uint8_t *blk = bytes.data() + b * block_bytes;
        double amax = 0, max = 0;  // block absmax, and the largest-magnitude value with its sign
        for (uint64_t e = 0; e < block; ++e) {
            const double v = x[b * block + e];
            if (std::fabs(v) > amax) amax = std::fabs(v), max = v;
        }
        for (uint64_t e = 0; e < block && failures < 5; ++e) {
            const uint64_t i = b * block + e;
            const double xi = x[i], err = std::fabs(xi - static_cast<double>(y[i]));
            double bound = 0;
            switch (type) {
                case TensorType::F32: bound = 0; break;
                case TensorType::F16: bound = std::max(std::fabs(xi) * std::ldexp(1.0, -11), std::ldexp(1.0, -25)); break;
                case TensorType::BF16: bound = std::fabs(xi) * std::ldexp(1.0, -8); break;
                case TensorType::Q8_0: {
                    // ggml rule: q = round(x / d) with d = amax/127, decoded with the f16 of d.
                    const double d = amax / 127, d16 = f16_at(blk, 0);
                    bound = 0.5 * d + 127 * std::fabs(d - d16) + 1e-6 * d;
                    break;
                }
                case TensorType::Q4_0: {
                    // ggml rule: d = max/-8; round half up, with 16 clamped to 15 (error up to d).
                    const double d = max / -8, d16 = f16_at(blk, 0);
                    bound = std::fabs(d) + 8 * std::fabs(d - d16) + 1e-6 * std::fabs(d);
                    break;
                }
                case TensorType::Q6_K: {
                    // At most one quantization step of the element's sub-block, and that step is at
                    // most the sub-block's absmax/32 plus one unit of the super-block scale d.
                    const double step = std::fabs(ref_q6_k_step(blk, static_cast<int>(e)));
                    double sub_amax = 0;
                    for (uint64_t j = e / 16 * 16; j < e / 16 * 16 + 16; ++j) sub_amax = std::max(sub_amax, std::fabs(double(x[b * block + j])));
                    const double d16 = f16_at(blk, 208);
                    EXPECT_LE(step, (sub_amax / 32 + d16) * (1 + 1e-6)) << what << " block " << b << " element " << e;
                    bound = step * (1 + 1e-6);
                    break;
                }
                case TensorType::TQ1_0:
                case TensorType::TQ2_0:
                case TensorType::I2_S: bound = 0; break;  // exact for ternary * representable scale
                default: break;  // the decode-only fallback types are never encoded
            }
            if (err > bound) fail_at(i, bound);
        }
    }
    if (type == TensorType::Q6_K) {
        // Relative RMS error per row for Gaussian input: about step/sqrt(12) ~ 2% of sigma.
        for (uint64_t r = 0; r * ne0 < x.size(); ++r) {
            double se = 0, sx = 0;
            for (uint64_t c = 0; c < ne0; ++c) {
                const double xi = x[r * ne0 + c];
                se += (xi - y[r * ne0 + c]) * (xi - y[r * ne0 + c]);
                sx += xi * xi;
            }
            if (sx > 0) {
                EXPECT_LT(std::sqrt(se / sx), 0.03) << what << " row " << r;
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// 1. Library decode == test decode, bitwise; error bounds vs the input
// ------------------------------------------------------------------------------------------------

TEST(Quantize, DecodersAgreeAndErrorWithinBound) {
    std::mt19937 rng(1234);
    for (TensorType type : kAllTypes) {
        for (const Shape &s : shapes_for(type)) {
            const std::string what = name_of(type) + " " + std::to_string(s.ne0) + "x" + std::to_string(s.rows);
            SCOPED_TRACE(what);
            const std::vector<float> x = is_ternary(type) ? ternary_input(type, s, rng) : general_input(type, s, rng);
            const std::vector<uint8_t> bytes = quantize(type, x, s.ne0, s.rows);
            const std::vector<float> y = dequantize(type, bytes, s.ne0, s.rows);
            expect_bitwise_equal(y, ref_decode(type, bytes, s.ne0, s.rows), what + " library vs test decoder");
            check_error(type, x, bytes, y, s.ne0, what);
            if (is_ternary(type)) {
                for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], y[i]) << what << " element " << i;
            }

            // Row subsets decode to the same values as the whole tensor.
            for (uint64_t first = 0; first < s.rows; ++first) {
                for (uint64_t count : {uint64_t{1}, s.rows - first}) {
                    const std::vector<float> part = dequantize(type, bytes, s.ne0, s.rows, first, count);
                    const std::vector<float> want(y.begin() + first * s.ne0, y.begin() + (first + count) * s.ne0);
                    expect_bitwise_equal(part, want, what + " rows from " + std::to_string(first));
                }
            }
        }
    }
}

// The decoders must also agree on bytes no quantizer produced: random bits (NaN/inf scales,
// negative and odd Q6_K scales, I2_S code 3, TQ1_0 bytes above 242*256/243, ...).
TEST(Quantize, DecodersAgreeOnArbitraryBytes) {
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> byte(0, 255);
    for (TensorType type : kAllTypes) {
        for (const Shape &s : shapes_for(type)) {
            const std::string what = name_of(type) + " random bytes " + std::to_string(s.ne0) + "x" + std::to_string(s.rows);
            std::vector<uint8_t> bytes(total_bytes(type, s.ne0, s.rows));
            for (uint8_t &b : bytes) b = static_cast<uint8_t>(byte(rng));
            expect_bitwise_equal(dequantize(type, bytes, s.ne0, s.rows), ref_decode(type, bytes, s.ne0, s.rows), what);
        }
    }
    // Every TQ1_0 byte value in every position: block k has qs/qh byte i = (k*52 + i) mod 256.
    const uint64_t blocks = 6;
    std::vector<uint8_t> bytes(54 * blocks);
    for (uint64_t k = 0; k < blocks; ++k) {
        for (int i = 0; i < 52; ++i) bytes[54 * k + i] = static_cast<uint8_t>((k * 52 + i) % 256);
        bytes[54 * k + 52] = 0x00, bytes[54 * k + 53] = 0x3C;  // d = 1.0
    }
    expect_bitwise_equal(dequantize(TensorType::TQ1_0, bytes, 256, blocks), ref_decode(TensorType::TQ1_0, bytes, 256, blocks),
                         "tq1_0 all byte values");
}

// ------------------------------------------------------------------------------------------------
// 2. Byte round trip: quantize, dequantize, quantize again
// ------------------------------------------------------------------------------------------------

TEST(Quantize, RequantizingDecodedValuesIsIdempotent) {
    std::mt19937 rng(77);
    for (TensorType type : kAllTypes) {
        for (const Shape &s : shapes_for(type)) {
            const std::string what = name_of(type) + " " + std::to_string(s.ne0) + "x" + std::to_string(s.rows);
            SCOPED_TRACE(what);
            // General (non-ternary) input for every type: the ternary quantizers map it to ternary
            // values on the first pass, after which they are idempotent too.
            const std::vector<float> x = general_input(type, s, rng);
            const std::vector<uint8_t> first = quantize(type, x, s.ne0, s.rows);
            const std::vector<float> decoded = dequantize(type, first, s.ne0, s.rows);
            const std::vector<uint8_t> second = quantize(type, decoded, s.ne0, s.rows);
            if (type == TensorType::Q6_K) {
                // Our Q6_K quantizer picks scales from each sub-block's extreme value, and the
                // decoded extreme need not reproduce the same scale; it is not idempotent on its
                // own output. What holds: re-encoding the decoded values stays within the bound.
                check_error(type, decoded, second, dequantize(type, second, s.ne0, s.rows), s.ne0, what + " second pass");
            } else {
                // F32/F16/BF16 (exact values re-encode exactly), Q8_0 (decoded absmax = 127*d16 so the
                // same d16 and codes come back), Q4_0 (the extreme decodes to -8*d16), TQ1_0/TQ2_0
                // (decoded absmax = d16), I2_S (decoded max|w| = scale, signs unchanged).
                EXPECT_EQ(first, second) << what;
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// 3. I2_S hand-built blocks (formats.md §2.2, §2.3)
// ------------------------------------------------------------------------------------------------

void put_f32(uint8_t *p, float v) {
    const uint32_t b = bits_of(v);
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(b >> (8 * i));
}

TEST(QuantizeI2S, HandBuiltTwoRows) {
    const uint64_t ne0 = 128, rows = 2, n = ne0 * rows;
    std::vector<uint8_t> t(n / 4 + 32);
    // Row 0: every byte 0b10_01_00_10 -> element j: bits 7:6 = 10 (+1), j+32: 5:4 = 01 (0),
    // j+64: 3:2 = 00 (-1), j+96: 1:0 = 10 (+1); except byte 0 and byte 31.
    for (int j = 0; j < 32; ++j) t[j] = 0b10'01'00'10;
    t[0] = 0b00'10'01'00;   // element 0: -1, element 32: +1, element 64: 0, element 96: -1
    t[31] = 0b01'01'01'10;  // element 31: 0, 63: 0, 95: 0, element 127: +1 (bits 1:0 of byte 31)
    // Row 1 (bytes 32..63, i.e. at byte r*ne0/4): alternating patterns, and one code 3.
    for (int j = 0; j < 32; ++j) t[32 + j] = (j % 2) ? 0b01'10'00'01 : 0b10'00'01'10;
    t[32 + 5] = 0b11'00'00'00;  // row 1 element 5 has code 3 (never written; decodes as +2)
    // Tail at byte n/4 = 64: f32 scale 0.75, then 28 bytes of garbage that must be ignored.
    put_f32(&t[64], 0.75f);
    for (int i = 4; i < 32; ++i) t[64 + i] = static_cast<uint8_t>(0xA5 ^ i);
    put_f32(&t[68], 123.0f);  // a plausible-looking second float: still ignored

    EXPECT_EQ(bitnet::tensor_scale(TensorType::I2_S, t.data(), n), 0.75f);
    const std::vector<float> y = dequantize(TensorType::I2_S, t, ne0, rows);
    // Row 0
    EXPECT_EQ(y[0], -0.75f);   // byte 0 bits 7:6 = 00
    EXPECT_EQ(y[32], 0.75f);   // byte 0 bits 5:4 = 10
    EXPECT_EQ(y[64], 0.0f);    // byte 0 bits 3:2 = 01
    EXPECT_EQ(y[96], -0.75f);  // byte 0 bits 1:0 = 00
    EXPECT_EQ(y[1], 0.75f);
    EXPECT_EQ(y[33], 0.0f);
    EXPECT_EQ(y[65], -0.75f);
    EXPECT_EQ(y[97], 0.75f);
    EXPECT_EQ(y[31], 0.0f);
    EXPECT_EQ(y[127], 0.75f);  // byte 31 bits 1:0 = 10
    // Row 1
    EXPECT_EQ(y[128 + 0], 0.75f);    // 0b10 in bits 7:6 of byte 32
    EXPECT_EQ(y[128 + 32], -0.75f);  // 0b00
    EXPECT_EQ(y[128 + 64], 0.0f);    // 0b01
    EXPECT_EQ(y[128 + 96], 0.75f);   // 0b10
    EXPECT_EQ(y[128 + 1], 0.0f);     // byte 33 = 0b01'10'00'01
    EXPECT_EQ(y[128 + 33], 0.75f);
    EXPECT_EQ(y[128 + 65], -0.75f);
    EXPECT_EQ(y[128 + 97], 0.0f);
    EXPECT_EQ(y[128 + 5], 1.5f);  // code 3 -> +2 * scale
    EXPECT_EQ(y[128 + 37], -0.75f);

    // i2s_ternary_at agrees on every element.
    for (uint64_t k = 0; k < n; ++k) {
        ASSERT_EQ(static_cast<float>(bitnet::i2s_ternary_at(t.data(), k)) * 0.75f, y[k]) << k;
    }
    EXPECT_EQ(bitnet::i2s_ternary_at(t.data(), 128 + 5), 2);

    // Row 1 alone, via first_row = 1 (the scale is still read at total_elements/4).
    const std::vector<float> row1 = dequantize(TensorType::I2_S, t, ne0, rows, 1, 1);
    expect_bitwise_equal(row1, std::vector<float>(y.begin() + 128, y.end()), "i2_s row 1");

    // The same bytes viewed as one 256-element row: blocks follow each other, scale at the same byte.
    expect_bitwise_equal(dequantize(TensorType::I2_S, t, 256, 1), y, "i2_s 1x256 view");

    // Garbage in the other 28 tail bytes changes nothing.
    std::vector<uint8_t> clean = t;
    for (int i = 4; i < 32; ++i) clean[64 + i] = 0;
    expect_bitwise_equal(dequantize(TensorType::I2_S, clean, ne0, rows), y, "i2_s clean tail");
}

TEST(QuantizeI2S, ScaleIsReadAtTotalElementsOverFour) {
    // Three rows of 128: the scale sits at byte 96, not at 32 or 64.
    const uint64_t ne0 = 128, rows = 3;
    std::vector<uint8_t> t(96 + 32, 0b10'10'10'10);  // every element +1
    put_f32(&t[96], 2.5f);
    for (int i = 100; i < 128; ++i) t[i] = 0xFF;
    const std::vector<float> y = dequantize(TensorType::I2_S, t, ne0, rows);
    for (float v : y) ASSERT_EQ(v, 2.5f);
    const std::vector<float> last = dequantize(TensorType::I2_S, t, ne0, rows, 2, 1);
    for (float v : last) ASSERT_EQ(v, 2.5f);
}

TEST(QuantizeI2S, QuantizerRules) {
    // code 1 if |w| < 1e-6, else 2 if w > 0, else 0; scale = max|w| in double stored as f32;
    // tail = scale + 28 zero bytes.
    std::vector<float> x(128, 0.0f);
    x[0] = 1.0f;       // +1 -> code 2, and the tensor's max|w|
    x[1] = -1.0f;      // code 0
    x[2] = 5e-7f;      // |w| < 1e-6 -> code 1
    x[3] = -5e-7f;     // code 1
    x[4] = 0.3f;       // not ternary: the sign decides, code 2
    x[5] = -2e-6f;     // code 0
    x[6] = -0.0f;      // code 1
    x[32] = -0.25f;    // group 1, lane 0: code 0
    x[127] = 0.9f;     // group 3, lane 31: code 2
    const std::vector<uint8_t> t = quantize(TensorType::I2_S, x, 128, 1);
    ASSERT_EQ(t.size(), 32u + 32u);
    auto code = [&](int p) { return ref_i2s_code(t.data(), p); };
    EXPECT_EQ(code(0), 2);
    EXPECT_EQ(code(1), 0);
    EXPECT_EQ(code(2), 1);
    EXPECT_EQ(code(3), 1);
    EXPECT_EQ(code(4), 2);
    EXPECT_EQ(code(5), 0);
    EXPECT_EQ(code(6), 1);
    EXPECT_EQ(code(7), 1);
    EXPECT_EQ(code(32), 0);
    EXPECT_EQ(code(127), 2);
    // Byte 0 holds elements 0 (bits 7:6), 32 (5:4), 64 (3:2), 96 (1:0): codes 2, 0, 1, 1.
    EXPECT_EQ(t[0], 0b10'00'01'01);
    EXPECT_EQ(t[31], 0b01'01'01'10);
    EXPECT_EQ(f32_at(t.data(), 32), 1.0);
    for (int i = 36; i < 64; ++i) EXPECT_EQ(t[i], 0) << i;
}

// ------------------------------------------------------------------------------------------------
// 4. TQ2_0 / TQ1_0 hand-built blocks (formats.md §1.6)
// ------------------------------------------------------------------------------------------------

TEST(QuantizeTQ, TQ2_0HandBuiltBlock) {
    std::vector<uint8_t> blk(66);
    // Chunk 0: byte m = 0b00_01_10_01 -> element m: bits 1:0 = 01 (0), m+32: 3:2 = 10 (+1),
    // m+64: 5:4 = 01 (0), m+96: 7:6 = 00 (-1).
    for (int m = 0; m < 32; ++m) blk[m] = 0b00'01'10'01;
    // Chunk 1: byte 32+m = 0b10_00_10_00 -> element 128+m: -1, 160+m: +1, 192+m: -1, 224+m: +1.
    for (int m = 0; m < 32; ++m) blk[32 + m] = 0b10'00'10'00;
    blk[64] = 0x00, blk[65] = 0x38;  // d = 0.5
    const std::vector<float> y = dequantize(TensorType::TQ2_0, blk, 256, 1);
    for (int m = 0; m < 32; ++m) {
        EXPECT_EQ(y[m], 0.0f);
        EXPECT_EQ(y[m + 32], 0.5f);
        EXPECT_EQ(y[m + 64], 0.0f);
        EXPECT_EQ(y[m + 96], -0.5f);
        EXPECT_EQ(y[128 + m], -0.5f);
        EXPECT_EQ(y[160 + m], 0.5f);
        EXPECT_EQ(y[192 + m], -0.5f);
        EXPECT_EQ(y[224 + m], 0.5f);
    }
    // The quantizer (d = absmax = 0.5) reproduces the block byte for byte.
    EXPECT_EQ(quantize(TensorType::TQ2_0, y, 256, 1), blk);
}

TEST(QuantizeTQ, TQ1_0HandBuiltBlock) {
    std::vector<uint8_t> blk(54);
    // qs[m] (m < 32): trits (2,1,0,1,2) for elements m, 32+m, 64+m, 96+m, 128+m:
    // q = 2*81 + 1*27 + 0*9 + 1*3 + 2 = 194, byte = (194*256 + 242)/243 = 205.
    for (int m = 0; m < 32; ++m) blk[m] = 205;
    // qs[32+m] (m < 16): trits (1,2,2,0,1) for elements 160+m, 176+m, 192+m, 208+m, 224+m:
    // q = 81 + 54 + 18 + 0 + 1 = 154, byte = (154*256 + 242)/243 = 163.
    for (int m = 0; m < 16; ++m) blk[32 + m] = 163;
    // qh[j]: trits (2,0,1,1) for elements 240+j, 244+j, 248+j, 252+j, then *3:
    // q = (2*27 + 0*9 + 1*3 + 1) * 3 = 174, byte = (174*256 + 242)/243 = 184.
    for (int j = 0; j < 4; ++j) blk[48 + j] = 184;
    blk[52] = 0x00, blk[53] = 0x40;  // d = 2.0
    EXPECT_EQ((194 * 256 + 242) / 243, 205);
    EXPECT_EQ((154 * 256 + 242) / 243, 163);
    EXPECT_EQ((174 * 256 + 242) / 243, 184);

    const std::vector<float> y = dequantize(TensorType::TQ1_0, blk, 256, 1);
    const float first[5] = {2.0f, 0.0f, -2.0f, 0.0f, 2.0f};
    const float second[5] = {0.0f, 2.0f, 2.0f, -2.0f, 0.0f};
    const float tail[4] = {2.0f, -2.0f, 0.0f, 0.0f};
    for (int m = 0; m < 32; ++m) {
        for (int n = 0; n < 5; ++n) EXPECT_EQ(y[32 * n + m], first[n]) << "element " << 32 * n + m;
    }
    for (int m = 0; m < 16; ++m) {
        for (int n = 0; n < 5; ++n) EXPECT_EQ(y[160 + 16 * n + m], second[n]) << "element " << 160 + 16 * n + m;
    }
    for (int j = 0; j < 4; ++j) {
        for (int n = 0; n < 4; ++n) EXPECT_EQ(y[240 + 4 * n + j], tail[n]) << "element " << 240 + 4 * n + j;
    }
    EXPECT_EQ(quantize(TensorType::TQ1_0, y, 256, 1), blk);
}

TEST(QuantizeTQ, TQ1_0EveryFiveTritCombination) {
    // All 243 trit combinations of byte qs[0] (elements 0, 32, 64, 96, 128) encode to
    // ceil(q*256/243) and decode back.
    for (int q = 0; q < 243; ++q) {
        std::vector<float> x(256, 0.0f);
        x[255] = 1.0f;  // fixes d = 1 even when all five trits are 0
        int digits[5];
        for (int n = 4, rest = q; n >= 0; --n, rest /= 3) digits[n] = rest % 3;
        for (int n = 0; n < 5; ++n) x[32 * n] = static_cast<float>(digits[n] - 1);
        const std::vector<uint8_t> blk = quantize(TensorType::TQ1_0, x, 256, 1);
        ASSERT_EQ(blk[0], (q * 256 + 242) / 243) << q;
        const std::vector<float> y = dequantize(TensorType::TQ1_0, blk, 256, 1);
        for (int n = 0; n < 5; ++n) ASSERT_EQ(y[32 * n], x[32 * n]) << "q " << q << " trit " << n;
    }
}

TEST(QuantizeTQ, TernaryRoundingFollowsLroundf) {
    // code = lroundf(x * (1/d)) + 1 with d = absmax: ties round away from zero.
    std::vector<float> x(256, 0.0f);
    x[0] = 1.0f;     // absmax: d = 1
    x[1] = 0.5f;     // lroundf(0.5) = 1 -> +1
    x[2] = -0.5f;    // -1
    x[3] = 0.49f;    // 0
    x[4] = -0.51f;   // -1
    for (TensorType type : {TensorType::TQ1_0, TensorType::TQ2_0}) {
        const std::vector<float> y = dequantize(type, quantize(type, x, 256, 1), 256, 1);
        EXPECT_EQ(y[0], 1.0f) << name_of(type);
        EXPECT_EQ(y[1], 1.0f) << name_of(type);
        EXPECT_EQ(y[2], -1.0f) << name_of(type);
        EXPECT_EQ(y[3], 0.0f) << name_of(type);
        EXPECT_EQ(y[4], -1.0f) << name_of(type);
    }
}

// ------------------------------------------------------------------------------------------------
// Q8_0 / Q4_0 / Q6_K known blocks (ggml reference rules, formats.md §1.6)
// ------------------------------------------------------------------------------------------------

TEST(QuantizeQ, Q8_0RoundsHalfAwayFromZero) {
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f;  // amax: d = 1, id = 1
    x[1] = 2.5f;    // roundf -> 3 (round-half-even would give 2)
    x[2] = -2.5f;   // -3
    x[3] = 3.5f;    // 4
    x[4] = -0.49f;  // 0
    const std::vector<uint8_t> b = quantize(TensorType::Q8_0, x, 32, 1);
    EXPECT_EQ(b[0], 0x00);
    EXPECT_EQ(b[1], 0x3C);  // f16 1.0
    EXPECT_EQ(static_cast<int8_t>(b[2]), 127);
    EXPECT_EQ(static_cast<int8_t>(b[3]), 3);
    EXPECT_EQ(static_cast<int8_t>(b[4]), -3);
    EXPECT_EQ(static_cast<int8_t>(b[5]), 4);
    EXPECT_EQ(static_cast<int8_t>(b[6]), 0);
    // All-zero block: d = 0 and id = 0, every code 0.
    const std::vector<uint8_t> z = quantize(TensorType::Q8_0, std::vector<float>(32, 0.0f), 32, 1);
    for (uint8_t v : z) EXPECT_EQ(v, 0);
}

TEST(QuantizeQ, Q4_0SignedMaxAndTruncation) {
    std::vector<float> x(32, 0.0f);
    x[0] = -8.0f;    // largest magnitude, negative: d = -8 / -8 = 1 -> nibble 0
    x[1] = 2.5f;     // (int)(2.5 + 8.5) = 11
    x[2] = -2.5f;    // (int)(6.0) = 6: halves round up, not away from zero
    x[3] = 7.9f;     // (int)(16.4) = 16 -> clamped to 15
    x[16] = 0.49f;   // (int)(8.99) = 8
    x[17] = 0.5f;    // 9
    x[18] = -0.5f;   // 8
    x[19] = -0.51f;  // 7
    const std::vector<uint8_t> b = quantize(TensorType::Q4_0, x, 32, 1);
    EXPECT_EQ(b[0], 0x00);
    EXPECT_EQ(b[1], 0x3C);  // d = +1.0
    EXPECT_EQ(b[2 + 0], 0x80);  // low nibble: x[0] = 0, high nibble: x[16] = 8
    EXPECT_EQ(b[2 + 1], 0x9B);  // 11 | 9 << 4
    EXPECT_EQ(b[2 + 2], 0x86);  // 6 | 8 << 4
    EXPECT_EQ(b[2 + 3], 0x7F);  // 15 | 7 << 4
    EXPECT_EQ(b[2 + 4], 0x88);  // zeros -> 8

    // Positive extreme: d = 8 / -8 = -1, so the extreme is still nibble 0 and decodes to +8.
    std::vector<float> p(32, 1.0f);
    p[5] = 8.0f;
    const std::vector<uint8_t> bp = quantize(TensorType::Q4_0, p, 32, 1);
    EXPECT_EQ(bp[0], 0x00);
    EXPECT_EQ(bp[1], 0xBC);  // f16 -1.0
    const std::vector<float> yp = dequantize(TensorType::Q4_0, bp, 32, 1);
    EXPECT_EQ(yp[5], 8.0f);
    EXPECT_EQ(yp[0], 1.0f);
}

TEST(QuantizeQ, Q6_KHandBuiltBlock) {
    std::vector<uint8_t> blk(210, 0);
    // Half 0, l = 5: ql[5] low nibble -> y[5], high nibble -> y[69]; ql[37] low -> y[37], high -> y[101];
    // qh[5] bits 1:0 -> y[5], 3:2 -> y[37], 5:4 -> y[69], 7:6 -> y[101].
    blk[5] = 0x3A;
    blk[37] = 0xF1;
    blk[128 + 5] = 0b11'10'01'00;
    // Half 1, l = 0: ql[64] low nibble and qh[160] bits 1:0 -> y[128].
    blk[64] = 0x05;
    blk[160] = 0b00'00'00'11;
    // Scales: sc[e/16].
    blk[192 + 0] = 2;                            // y[0..15]
    blk[192 + 2] = static_cast<uint8_t>(-3);     // y[32..47]
    blk[192 + 4] = 5;                            // y[64..79]
    blk[192 + 6] = 127;                          // y[96..111]
    blk[192 + 8] = static_cast<uint8_t>(-1);     // y[128..143]
    blk[208] = 0x00, blk[209] = 0x34;            // d = 0.25
    const std::vector<float> y = dequantize(TensorType::Q6_K, blk, 256, 1);
    EXPECT_EQ(y[5], 0.25f * 2 * (10 - 32));          // u = 0xA | 0 << 4 = 10
    EXPECT_EQ(y[37], 0.25f * -3 * (17 - 32));        // u = 1 | 1 << 4 = 17
    EXPECT_EQ(y[69], 0.25f * 5 * (35 - 32));         // u = 3 | 2 << 4 = 35
    EXPECT_EQ(y[101], 0.25f * 127 * (63 - 32));      // u = 0xF | 3 << 4 = 63
    EXPECT_EQ(y[128], 0.25f * -1 * (53 - 32));       // u = 5 | 3 << 4 = 53
    EXPECT_EQ(y[6], 0.25f * 2 * -32);                // all-zero bits: code -32
    EXPECT_EQ(y[16], 0.0f);                          // scale 0
    expect_bitwise_equal(y, ref_decode(TensorType::Q6_K, blk, 256, 1), "q6_k hand-built");
}

// ------------------------------------------------------------------------------------------------
// Argument checks
// ------------------------------------------------------------------------------------------------

TEST(Quantize, RejectsBadArguments) {
    std::vector<uint8_t> bytes(34 * 4);
    std::vector<float> out(32 * 4), in(32 * 4, 1.0f);
    EXPECT_THROW(bitnet::dequantize_rows(TensorType::Q8_0, bytes.data(), 32, 4, 3, 2, out.data()), bitnet::Error);
    EXPECT_THROW(bitnet::dequantize_rows(TensorType::Q8_0, bytes.data(), 33, 1, 0, 1, out.data()), bitnet::Error);
    EXPECT_THROW(bitnet::quantize_tensor(TensorType::Q6_K, in.data(), 128, 1, bytes.data()), bitnet::Error);
    EXPECT_THROW(bitnet::quantize_tensor(TensorType::I2_S, in.data(), 64, 2, bytes.data()), bitnet::Error);
    EXPECT_NO_THROW(bitnet::dequantize_rows(TensorType::Q8_0, bytes.data(), 32, 4, 4, 0, out.data()));
}

// ------------------------------------------------------------------------------------------------
// 5. util/half.h: exhaustive and round-to-nearest-even checks against independent oracles
// ------------------------------------------------------------------------------------------------

bool half_is_nan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }

TEST(Half, EveryHalfDecodesExactlyAndRoundTrips) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = bitnet::half_to_float(static_cast<uint16_t>(h));
        const float want = static_cast<float>(f16_value(h));
        ASSERT_TRUE(same_float(f, want)) << std::hex << h;
        if (std::isnan(want)) {
            ASSERT_EQ(bits_of(f) >> 31, h >> 15) << std::hex << h;  // sign kept
        }
        const uint16_t back = bitnet::float_to_half(f);
        if (half_is_nan(static_cast<uint16_t>(h))) {
            ASSERT_TRUE(half_is_nan(back)) << std::hex << h << " -> " << back;  // payload may change
            ASSERT_EQ(back & 0x8000, h & 0x8000);
        } else {
            ASSERT_EQ(back, h) << std::hex << h;
        }
    }
}

TEST(Half, SpecialValues) {
    EXPECT_EQ(bits_of(bitnet::half_to_float(0x8000)), 0x80000000u);  // -0
    EXPECT_EQ(bitnet::float_to_half(-0.0f), 0x8000);
    EXPECT_EQ(bitnet::float_to_half(0.0f), 0x0000);
    EXPECT_EQ(bitnet::half_to_float(0x7C00), std::numeric_limits<float>::infinity());
    EXPECT_EQ(bitnet::half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
    EXPECT_EQ(bitnet::float_to_half(std::numeric_limits<float>::infinity()), 0x7C00);
    EXPECT_EQ(bitnet::float_to_half(-std::numeric_limits<float>::infinity()), 0xFC00);
    EXPECT_TRUE(std::isnan(bitnet::half_to_float(0x7E00)));
    EXPECT_TRUE(std::isnan(bitnet::half_to_float(0x7C01)));  // signalling-pattern NaN
    EXPECT_TRUE(half_is_nan(bitnet::float_to_half(std::numeric_limits<float>::quiet_NaN())));
    EXPECT_TRUE(half_is_nan(bitnet::float_to_half(float_of(0x7F800001u))));  // low-payload NaN stays NaN
    EXPECT_EQ(bitnet::half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_EQ(bitnet::half_to_float(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
    EXPECT_EQ(bitnet::half_to_float(0x0400), std::ldexp(1.0f, -14));    // smallest normal
    EXPECT_EQ(bitnet::half_to_float(0x7BFF), 65504.0f);
    EXPECT_EQ(bitnet::half_to_float(0x3C00), 1.0f);
    EXPECT_EQ(bitnet::half_to_float(0xC000), -2.0f);
}

TEST(Half, RoundsToNearestEven) {
    const float one = 1.0f;
    EXPECT_EQ(bitnet::float_to_half(one + std::ldexp(1.0f, -11)), 0x3C00);       // tie -> even (down)
    EXPECT_EQ(bitnet::float_to_half(one + 3 * std::ldexp(1.0f, -11)), 0x3C02);   // tie -> even (up)
    EXPECT_EQ(bitnet::float_to_half(std::nextafter(one + std::ldexp(1.0f, -11), 2.0f)), 0x3C01);  // above tie
    EXPECT_EQ(bitnet::float_to_half(std::nextafter(one + 3 * std::ldexp(1.0f, -11), 0.0f)), 0x3C01);
    EXPECT_EQ(bitnet::float_to_half(-(one + 3 * std::ldexp(1.0f, -11))), 0xBC02);
    EXPECT_EQ(bitnet::float_to_half(65504.0f), 0x7BFF);
    EXPECT_EQ(bitnet::float_to_half(std::nextafter(65520.0f, 0.0f)), 0x7BFF);  // just below the tie
    EXPECT_EQ(bitnet::float_to_half(65520.0f), 0x7C00);  // tie with odd 0x7BFF -> rounds to infinity
    EXPECT_EQ(bitnet::float_to_half(1e6f), 0x7C00);
    // Subnormal range, units of 2^-24.
    EXPECT_EQ(bitnet::float_to_half(std::ldexp(1.0f, -25)), 0x0000);       // 0.5 unit: tie -> 0
    EXPECT_EQ(bitnet::float_to_half(std::ldexp(3.0f, -25)), 0x0002);       // 1.5 units: tie -> 2
    EXPECT_EQ(bitnet::float_to_half(std::ldexp(5.0f, -25)), 0x0002);       // 2.5 units: tie -> 2
    EXPECT_EQ(bitnet::float_to_half(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
    EXPECT_EQ(bitnet::float_to_half(std::ldexp(1.0f, -30)), 0x0000);
    EXPECT_EQ(bitnet::float_to_half(-std::ldexp(1.0f, -30)), 0x8000);
    EXPECT_EQ(bitnet::float_to_half(std::ldexp(2047.0f, -25)), 0x0400);    // tie 0x03FF/0x0400 -> even
    EXPECT_EQ(bitnet::float_to_half(float_of(0x00000001u)), 0x0000);       // float subnormal
}

// Oracle: all finite non-negative halves in increasing order (bit patterns 0x0000..0x7BFF are
// monotonic); the correctly rounded result is the nearer neighbour, the even one on ties, and
// infinity at or beyond 65520 (the tie between 65504 and 2^16).
uint16_t oracle_half(float f, const std::vector<double> &table) {
    const double a = std::fabs(static_cast<double>(f));
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    if (std::isnan(f)) return 0x7E00;
    if (a >= 65520.0) return sign | 0x7C00;
    const auto it = std::upper_bound(table.begin(), table.end(), a);  // first value > a
    const size_t hi = static_cast<size_t>(it - table.begin());
    const size_t lo = hi - 1;  // table[0] = 0 <= a
    if (hi == table.size() || table[lo] == a) return static_cast<uint16_t>(sign | lo);
    const double dlo = a - table[lo], dhi = table[hi] - a;
    size_t pick = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
    return static_cast<uint16_t>(sign | pick);
}

TEST(Half, FloatToHalfMatchesOracle) {
    std::vector<double> table;
    for (uint32_t h = 0; h < 0x7C00; ++h) table.push_back(f16_value(h));
    std::vector<float> probes;
    // Every half, every midpoint between neighbours, and the floats just either side of both.
    for (uint32_t h = 0; h + 1 < 0x7C00; ++h) {
        const float mid = static_cast<float>((table[h] + table[h + 1]) / 2);  // exact in float
        for (float f : {static_cast<float>(table[h]), mid}) {
            probes.push_back(f);
            probes.push_back(std::nextafter(f, 0.0f));
            probes.push_back(std::nextafter(f, 1e9f));
        }
    }
    probes.push_back(65520.0f);
    probes.push_back(std::nextafter(65520.0f, 0.0f));
    std::mt19937 rng(5);
    std::uniform_int_distribution<uint32_t> any_bits;
    std::uniform_real_distribution<float> range(-70000.0f, 70000.0f);
    for (int i = 0; i < 300000; ++i) {
        probes.push_back(float_of(any_bits(rng)));
        probes.push_back(range(rng));
    }
    int failures = 0;
    for (float f : probes) {
        for (float v : {f, -f}) {
            const uint16_t got = bitnet::float_to_half(v), want = oracle_half(v, table);
            const bool ok = std::isnan(v) ? half_is_nan(got) : got == want;
            if (!ok && ++failures <= 5) ADD_FAILURE() << v << " (0x" << std::hex << bits_of(v) << ") -> " << got << " want " << want;
        }
    }
    EXPECT_EQ(failures, 0);
}

// bf16: every value round-trips; float -> bf16 rounds to nearest even (oracle: compare the two
// truncation neighbours in double, with 2^128 standing in for infinity).
TEST(BFloat16, RoundTripAndRounding) {
    for (uint32_t b = 0; b < 65536; ++b) {
        const float f = bitnet::bf16_to_float(static_cast<uint16_t>(b));
        ASSERT_TRUE(same_float(f, static_cast<float>(bf16_value(b)))) << std::hex << b;
        const uint16_t back = bitnet::float_to_bf16(f);
        if (std::isnan(f)) {
            ASSERT_TRUE(std::isnan(bf16_value(back))) << std::hex << b;
        } else {
            ASSERT_EQ(back, b) << std::hex << b;
        }
    }
    std::mt19937 rng(11);
    std::uniform_int_distribution<uint32_t> any_bits;
    int failures = 0;
    for (int i = 0; i < 300000; ++i) {
        uint32_t bits = any_bits(rng);
        if (i % 3 == 0) bits = (bits & 0xFFFF0000u) | 0x8000u;  // exact ties
        const float f = float_of(bits);
        if (std::isnan(f)) {
            if (!std::isnan(bf16_value(bitnet::float_to_bf16(f)))) ++failures;
            continue;
        }
        const uint32_t lo = bits >> 16, hi = lo + 1;  // same sign, magnitude neighbours
        const double a = std::fabs(static_cast<double>(f));
        const double vlo = std::fabs(bf16_value(lo));
        const double vhi = (hi & 0x7FFF) == 0x7F80 ? std::ldexp(1.0, 128) : std::fabs(bf16_value(hi));
        uint32_t want = a - vlo < vhi - a ? lo : vhi - a < a - vlo ? hi : (lo % 2 == 0 ? lo : hi);
        if (std::isinf(f)) want = lo;
        const uint16_t got = bitnet::float_to_bf16(f);
        if (got != want && ++failures <= 5) ADD_FAILURE() << std::hex << bits << " -> " << got << " want " << want;
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(bitnet::float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // tie -> even
    EXPECT_EQ(bitnet::float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie -> even (up)
}

}  // namespace
