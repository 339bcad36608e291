// Tests of the CPU kernel layer (kernels/kernels.h).
//
// 1. The scalar table is the specification; it is itself checked against naive decoders written
//    here from docs/formats.md (§1.6 TQ1_0/TQ2_0, §2.2 I2_S, §2.4 activations): weights
//    are decoded one element at a time from flat bit positions, dots are taken in int64, and
//    rounding is done without the FP environment.
// 2. Every variant this CPU can run (available_cpu_kernels) is compared with the scalar table on
//    random inputs of odd shapes. The kernels promise the same operations in the same order, so the
//    comparison is bit for bit (stronger than the 1e-6 relative the design asks for); dot_f32
//    too, against its fixed double-precision rule written out here (issue 19: float-activation
//    logits the same on every CPU).
// 3. Dispatch: names, availability, the BITNET_ISA selection rule and its warning.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <unistd.h>
#endif

#include "bitnet.h"
#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "util/half.h"

using bitnet::KernelTable;
using bitnet::QuantizedRow;

namespace {

// ------------------------------------------------------------------------------------------------
// Variants
// ------------------------------------------------------------------------------------------------

std::vector<const KernelTable *> variants() {
    const KernelTable *tables[8] = {};
    const size_t count = bitnet::available_cpu_kernels(tables, 8);
    return std::vector<const KernelTable *>(tables, tables + (count < 8 ? count : 8));
}

std::vector<std::string> variant_names() {
    std::vector<std::string> names;
    for (const KernelTable *table : variants()) names.push_back(table->name);
    return names;
}

// The scalar variant as dispatch hands it out (the scalar table, completed like every other).
const KernelTable &scalar() { return *bitnet::cpu_kernels_named("scalar"); }

// ------------------------------------------------------------------------------------------------
// Formats, decoded naively from formats.md
// ------------------------------------------------------------------------------------------------

enum class Format { I2S, TQ2, TQ1 };

const char *format_name(Format f) { return f == Format::I2S ? "I2_S" : f == Format::TQ2 ? "TQ2_0" : "TQ1_0"; }
int64_t block_elements(Format f) { return f == Format::I2S ? 128 : 256; }
int64_t block_bytes(Format f) { return f == Format::I2S ? 32 : f == Format::TQ2 ? 66 : 54; }

// Bits [first, first + width) of a byte array, bit 0 = least significant bit of byte 0.
int bits_at(const uint8_t *p, int64_t first, int width) {
    int value = 0;
    for (int i = 0; i < width; ++i) value |= ((p[(first + i) / 8] >> ((first + i) % 8)) & 1) << i;
    return value;
}

// §2.2: element p of a block: byte p % 32, bits (7 - 2*(p/32)):(6 - 2*(p/32)).
int i2s_code(const uint8_t *block, int p) { return bits_at(block, 8 * (p % 32) + 6 - 2 * (p / 32), 2); }

// §1.6 TQ2_0: half c = e / 128; within it element 32l + m is bits [2l+1:2l] of byte m.
int tq2_code(const uint8_t *block, int e) {
    const int c = e / 128, l = (e % 128) / 32, m = e % 32;
    return bits_at(block, 8 * (32 * c + m) + 2 * l, 2);
}

// §1.6 TQ1_0: trit n of a byte = floor(3 * ((byte * 3^n) mod 256) / 256).
int trit_of(int byte, int n) {
    int64_t power = 1;
    for (int k = 0; k < n; ++k) power *= 3;
    const int64_t p = (byte * power) % 256;
    return static_cast<int>((3 * p) / 256);
}
int tq1_code(const uint8_t *block, int e) {
    if (e < 160) return trit_of(block[e % 32], e / 32);
    if (e < 240) return trit_of(block[32 + (e - 160) % 16], (e - 160) / 16);
    return trit_of(block[48 + (e - 240) % 4], (e - 240) / 4);
}

int code_at(Format f, const uint8_t *block, int e) {
    return f == Format::I2S ? i2s_code(block, e) : f == Format::TQ2 ? tq2_code(block, e) : tq1_code(block, e);
}

// f16 -> double from its fields (formats.md: IEEE-754 binary16).
double half_value(const uint8_t *p) {
    const int bits = p[0] | (p[1] << 8);
    const int sign = bits >> 15, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    return sign ? -magnitude : magnitude;
}

// The expected output, computed from the naive decode: integer dots in int64, then the float steps
// the contract names (they are exact restatements, so the scalar kernel must match bit for bit).
float expected_output(Format f, const uint8_t *row, int64_t n_cols, const QuantizedRow &act, float weight_scale) {
    if (f == Format::I2S) {
        int64_t dot = 0;
        for (int64_t i = 0; i < n_cols; ++i) dot += (i2s_code(row + (i / 128) * 32, i % 128) - 1) * act.codes[i];
        return static_cast<float>(dot) / act.scale * weight_scale;
    }
    float acc = 0.0f;
    for (int64_t b = 0; b < n_cols / 256; ++b) {
        const uint8_t *block = row + b * block_bytes(f);
        int64_t dot = 0;
        for (int e = 0; e < 256; ++e) dot += (code_at(f, block, e) - 1) * act.codes[b * 256 + e];
        acc = acc + static_cast<float>(half_value(block + block_bytes(f) - 2)) * static_cast<float>(dot);
    }
    return acc / act.scale * weight_scale;
}

// Same, entirely in double (a sanity bound on the float steps themselves); *magnitude gets the
// same sum over |terms|, the scale of the float rounding error.
double expected_output_double(Format f, const uint8_t *row, int64_t n_cols, const QuantizedRow &act,
                              float weight_scale, double *magnitude) {
    double acc = 0.0, abs_acc = 0.0;
    for (int64_t b = 0; b < n_cols / block_elements(f); ++b) {
        const uint8_t *block = row + b * block_bytes(f);
        int64_t dot = 0;
        for (int e = 0; e < block_elements(f); ++e) {
            dot += (code_at(f, block, e) - 1) * act.codes[b * block_elements(f) + e];
        }
        const double term = (f == Format::I2S ? 1.0 : half_value(block + block_bytes(f) - 2)) * static_cast<double>(dot);
        acc += term;
        abs_acc += std::fabs(term);
    }
    *magnitude = std::fabs(abs_acc / act.scale * weight_scale);
    return acc / act.scale * weight_scale;
}

using Gemm = void (*)(const uint8_t *, size_t, int64_t, int64_t, const QuantizedRow *, int64_t, float, float *,
                      int64_t);
Gemm gemm_of(const KernelTable &table, Format f) {
    const bitnet::TernaryLayout layout = f == Format::I2S   ? bitnet::TernaryLayout::I2S
                                         : f == Format::TQ2 ? bitnet::TernaryLayout::TQ2
                                                            : bitnet::TernaryLayout::TQ1;
    return table.gemm_ternary[static_cast<size_t>(layout)];
}

// ------------------------------------------------------------------------------------------------
// Random inputs
// ------------------------------------------------------------------------------------------------

uint32_t float_bits(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
}

// Weights: random bytes (codes 0..3 and every TQ1_0 byte value), with f16 block scales that are
// finite, of varied magnitude, sometimes subnormal or zero.
struct Weights {
    std::vector<uint8_t> bytes;
    size_t row_bytes = 0;
};

Weights random_weights(Format f, int64_t n_rows, int64_t n_cols, size_t extra_row_bytes, std::mt19937 &rng) {
    Weights w;
    const int64_t n_blocks = n_cols / block_elements(f);
    w.row_bytes = static_cast<size_t>(n_blocks * block_bytes(f)) + extra_row_bytes;
    // Exactly the bytes the rows span, so that the sanitizer build catches reads past the last row.
    w.bytes.resize(w.row_bytes * static_cast<size_t>(n_rows - 1) + static_cast<size_t>(n_blocks * block_bytes(f)));
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t &b : w.bytes) b = static_cast<uint8_t>(byte(rng));
    if (f != Format::I2S) {
        std::uniform_real_distribution<float> magnitude(-3.0f, 3.0f);
        for (int64_t r = 0; r < n_rows; ++r) {
            for (int64_t b = 0; b < n_blocks; ++b) {
                uint8_t *d = w.bytes.data() + r * w.row_bytes + (b + 1) * block_bytes(f) - 2;
                const int kind = byte(rng) % 16;
                float value = std::ldexp(magnitude(rng), -(byte(rng) % 12));
                uint16_t h = bitnet::float_to_half(value);
                if (kind == 0) h = static_cast<uint16_t>(byte(rng) | ((byte(rng) & 3) << 8));  // subnormal
                if (kind == 1) h = 0;
                d[0] = static_cast<uint8_t>(h & 0xff);
                d[1] = static_cast<uint8_t>(h >> 8);
            }
        }
    }
    return w;
}

// Activation rows: codes quantized from random floats by the scalar kernel, stored at odd
// (unaligned) addresses.
struct Activations {
    std::vector<int8_t> storage;
    std::vector<QuantizedRow> rows;
};

Activations random_activations(int64_t n_tokens, int64_t n_cols, std::mt19937 &rng, bool extreme = false) {
    Activations a;
    const int64_t stride = n_cols + 67;
    a.storage.assign(static_cast<size_t>(1 + stride * (n_tokens - 1) + n_cols), 0);  // no slack after the last
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pick(0, 99);
    std::vector<float> x(static_cast<size_t>(n_cols));
    for (int64_t t = 0; t < n_tokens; ++t) {
        int8_t *codes = a.storage.data() + 1 + t * stride;
        QuantizedRow row{codes, 0.0f, 0};
        if (extreme) {
            // Largest magnitudes the int8 range allows, to probe intermediate int16/int32 bounds.
            for (int64_t i = 0; i < n_cols; ++i) codes[i] = (t % 2 == 0) ? -128 : 127;
            row.scale = 0.5f;
            row.sum = (t % 2 == 0) ? static_cast<int32_t>(-128 * n_cols) : static_cast<int32_t>(127 * n_cols);
        } else {
            const float spread = std::ldexp(1.0f, pick(rng) % 20 - 10);
            for (float &v : x) v = normal(rng) * spread * (pick(rng) == 0 ? 50.0f : 1.0f);
            scalar().quantize_activations(x.data(), n_cols, n_cols, codes, &row.scale, &row.sum);
        }
        a.rows.push_back(row);
    }
    return a;
}

// ------------------------------------------------------------------------------------------------
// Shapes
// ------------------------------------------------------------------------------------------------

struct Shape {
    int64_t rows, tokens, blocks;
};

// Odd row counts (tiles of 4 leave 1..3), odd token counts (tiles of 4 leave 1..3), odd block counts,
// and 2B-4T-like widths.
const Shape kShapes[] = {
    {1, 1, 1},  {3, 2, 3},   {17, 3, 1},  {67, 1, 5},  {5, 5, 7},   {4, 8, 2},  {17, 13, 3},
    {3, 4, 27}, {67, 13, 1}, {1, 1, 54},  {8, 1, 20},  {2, 3, 9},   {33, 5, 4}, {6, 7, 11},
    {3, 5, 0},  {2, 1, 0},  // no columns at all: every output is still written (as 0)
};

::testing::AssertionResult bitwise_equal(const std::vector<float> &got, const std::vector<float> &want,
                                         const std::string &what) {
    for (size_t i = 0; i < want.size(); ++i) {
        if (float_bits(got[i]) != float_bits(want[i])) {
            return ::testing::AssertionFailure() << what << ": element " << i << " is " << got[i] << " (0x" << std::hex
                                                 << float_bits(got[i]) << "), expected " << want[i] << " (0x"
                                                 << float_bits(want[i]) << std::dec << ")";
        }
    }
    return ::testing::AssertionSuccess();
}

constexpr float kSentinel = -12345.0f;

// Runs one gemm into an output with stride n_rows + 3 (the gaps must stay untouched).
std::vector<float> run_gemm(const KernelTable &table, Format f, const Weights &w, int64_t n_rows, int64_t n_cols,
                            const Activations &a, float weight_scale) {
    const int64_t n_tokens = static_cast<int64_t>(a.rows.size());
    const int64_t stride = n_rows + 3;
    std::vector<float> out(static_cast<size_t>(stride * n_tokens), kSentinel);
    gemm_of(table, f)(w.bytes.data(), w.row_bytes, n_rows, n_cols, a.rows.data(), n_tokens, weight_scale, out.data(),
                      stride);
    return out;
}

// ------------------------------------------------------------------------------------------------
// 1. The scalar specification against naive decoders
// ------------------------------------------------------------------------------------------------

// Round half to even without the FP environment.
float round_half_even(float v) {
    const float lower = std::floor(v);
    const float diff = v - lower;
    if (diff > 0.5f) return lower + 1.0f;
    if (diff < 0.5f) return lower;
    return std::fmod(lower, 2.0f) == 0.0f ? lower : lower + 1.0f;
}

void check_quantize_against_spec(const std::vector<float> &x, int64_t n_padded) {
    const int64_t n = static_cast<int64_t>(x.size());
    float max_abs = 0.0f;
    for (float v : x) max_abs = std::fabs(v) > max_abs ? std::fabs(v) : max_abs;
    const float scale = 127.0f / std::fmax(max_abs, 1e-5f);
    std::vector<int8_t> codes(static_cast<size_t>(n_padded), 99);
    float got_scale = 0.0f;
    int32_t got_sum = 0;
    scalar().quantize_activations(x.data(), n, n_padded, codes.data(), &got_scale, &got_sum);
    EXPECT_EQ(float_bits(got_scale), float_bits(scale));
    int32_t sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float r = round_half_even(x[i] * scale);
        const int want = r < -128.0f ? -128 : r > 127.0f ? 127 : static_cast<int>(r);
        ASSERT_EQ(codes[i], want) << "element " << i << " x=" << x[i];
        sum += want;
    }
    for (int64_t i = n; i < n_padded; ++i) ASSERT_EQ(codes[i], 0) << "padding " << i;
    EXPECT_EQ(got_sum, sum);
}

TEST(ScalarKernels, QuantizeActivationsFollowsFormatsMd) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t n : {1, 2, 7, 127, 128, 129, 2560, 2561}) {
        for (float spread : {1e-9f, 1e-6f, 1e-3f, 1.0f, 37.0f, 1e20f}) {
            std::vector<float> x(static_cast<size_t>(n));
            for (float &v : x) v = normal(rng) * spread;
            check_quantize_against_spec(x, (n + 127) / 128 * 128);
        }
    }
}

TEST(ScalarKernels, QuantizeActivationsRoundsHalfToEven) {
    // max |x| = 127 makes the scale exactly 1, so x.5 values are exact ties.
    std::vector<float> x = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.49f, -127.0f};
    check_quantize_against_spec(x, 128);
    std::vector<int8_t> codes(128);
    float scale;
    int32_t sum;
    scalar().quantize_activations(x.data(), static_cast<int64_t>(x.size()), 128, codes.data(), &scale, &sum);
    const int8_t want[] = {127, 0, 2, 2, 0, -2, -2, 126, -126, 3, -127};
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(codes[i], want[i]) << i;
    EXPECT_EQ(scale, 1.0f);
    // max |x| = 63.5 makes the scale exactly 2: x = k/2 + 1/4 are ties.
    std::vector<float> y = {63.5f, 0.25f, 0.75f, -0.25f, -0.75f, 1.25f};
    check_quantize_against_spec(y, 128);
}

TEST(ScalarKernels, QuantizeActivationsOfZerosUsesTheFloor) {
    std::vector<float> x(300, 0.0f);
    x[7] = 1e-7f;  // below 1e-5: scale = 127 / 1e-5
    check_quantize_against_spec(x, 384);
}

void check_scalar_gemm(Format f, uint32_t seed) {
    std::mt19937 rng(seed);
    for (const Shape &shape : kShapes) {
        const int64_t n_cols = shape.blocks * block_elements(f);
        if (shape.rows * shape.tokens * n_cols > 3'000'000) continue;  // keep the naive loops quick
        const Weights w = random_weights(f, shape.rows, n_cols, shape.rows % 2 ? 32 : 0, rng);
        const Activations a = random_activations(shape.tokens, n_cols, rng);
        const float weight_scale = 0.75f;
        const std::vector<float> out = run_gemm(scalar(), f, w, shape.rows, n_cols, a, weight_scale);
        const int64_t stride = shape.rows + 3;
        for (int64_t t = 0; t < shape.tokens; ++t) {
            for (int64_t r = 0; r < shape.rows + 3; ++r) {
                const float got = out[t * stride + r];
                if (r >= shape.rows) {
                    ASSERT_EQ(got, kSentinel) << "gap written";
                    continue;
                }
                const uint8_t *row = w.bytes.data() + r * w.row_bytes;
                const float want = expected_output(f, row, n_cols, a.rows[t], weight_scale);
                ASSERT_EQ(float_bits(got), float_bits(want))
                    << format_name(f) << " rows " << shape.rows << " tokens " << shape.tokens << " cols " << n_cols
                    << " at r=" << r << " t=" << t << ": " << got << " vs " << want;
                double magnitude = 0.0;
                const double precise = expected_output_double(f, row, n_cols, a.rows[t], weight_scale, &magnitude);
                ASSERT_NEAR(got, precise, 1e-5 * magnitude + 1e-30);
            }
        }
    }
}

TEST(ScalarKernels, GemmI2SFollowsFormatsMd) { check_scalar_gemm(Format::I2S, 11); }
TEST(ScalarKernels, GemmTQ2FollowsFormatsMd) { check_scalar_gemm(Format::TQ2, 12); }
TEST(ScalarKernels, GemmTQ1FollowsFormatsMd) { check_scalar_gemm(Format::TQ1, 13); }

// With the activation scale a power of two and weight scale 1, the I2_S output is the integer dot
// itself, exactly.
TEST(ScalarKernels, GemmI2SIntegerPartIsExact) {
    std::mt19937 rng(5);
    const int64_t n_cols = 128 * 9;
    Weights w = random_weights(Format::I2S, 5, n_cols, 0, rng);
    Activations a = random_activations(3, n_cols, rng);
    for (QuantizedRow &row : a.rows) row.scale = 1.0f;
    const std::vector<float> out = run_gemm(scalar(), Format::I2S, w, 5, n_cols, a, 1.0f);
    for (int64_t t = 0; t < 3; ++t) {
        for (int64_t r = 0; r < 5; ++r) {
            int64_t dot = 0;
            const uint8_t *row = w.bytes.data() + r * w.row_bytes;
            for (int64_t i = 0; i < n_cols; ++i) dot += (i2s_code(row + (i / 128) * 32, i % 128) - 1) * a.rows[t].codes[i];
            EXPECT_EQ(out[t * 8 + r], static_cast<float>(dot));
        }
    }
}

TEST(ScalarKernels, DotF32) {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t n : {0, 1, 5, 64, 1000, 2560}) {
        std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
        double want = 0.0, magnitude = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            a[i] = normal(rng);
            b[i] = normal(rng);
            want += static_cast<double>(a[i]) * b[i];
            magnitude += std::fabs(static_cast<double>(a[i]) * b[i]);
        }
        EXPECT_NEAR(scalar().dot_f32(a.data(), b.data(), n), want, 1e-6 * magnitude + 1e-30) << n;
    }
}

// ------------------------------------------------------------------------------------------------
// 2. Every variant against the scalar table
// ------------------------------------------------------------------------------------------------

class KernelVariant : public ::testing::TestWithParam<std::string> {
protected:
    const KernelTable &table() const { return *bitnet::cpu_kernels_named(GetParam().c_str()); }
};

TEST_P(KernelVariant, TableIsComplete) {
    const KernelTable *t = bitnet::cpu_kernels_named(GetParam().c_str());
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(GetParam(), t->name);
    EXPECT_NE(t->quantize_activations, nullptr);
    for (size_t layout = 0; layout < bitnet::kTernaryLayoutCount; ++layout) {
        EXPECT_NE(t->gemm_ternary[layout], nullptr) << "layout " << layout;
    }
    EXPECT_NE(t->dot_f32, nullptr);
    EXPECT_NE(t->gemm_float, nullptr);
    EXPECT_NE(t->attention_scores, nullptr);
    EXPECT_NE(t->attention_values, nullptr);
    EXPECT_NE(t->rms_norm, nullptr);
    EXPECT_NE(t->gated_activation, nullptr);
    EXPECT_NE(t->softmax, nullptr);
    std::printf("[ variant  ] %s (cpu: %s)\n", t->name, bitnet::describe_cpu_features(bitnet::cpu_features()).c_str());
}

void expect_quantize_matches(const KernelTable &table, const std::vector<float> &x, int64_t n_padded) {
    const int64_t n = static_cast<int64_t>(x.size());
    // Unaligned destinations, canaries after n_padded.
    std::vector<int8_t> want(static_cast<size_t>(n_padded) + 9, 77), got(static_cast<size_t>(n_padded) + 9, 77);
    float want_scale = 0.0f, got_scale = 1.0f;
    int32_t want_sum = 1, got_sum = 2;
    scalar().quantize_activations(x.data(), n, n_padded, want.data() + 1, &want_scale, &want_sum);
    table.quantize_activations(x.data(), n, n_padded, got.data() + 1, &got_scale, &got_sum);
    EXPECT_EQ(float_bits(got_scale), float_bits(want_scale)) << "n=" << n;
    EXPECT_EQ(got_sum, want_sum) << "n=" << n;
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "n=" << n << " byte " << i;
}

TEST_P(KernelVariant, QuantizeActivationsMatchesScalar) {
    std::mt19937 rng(21);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pick(0, 999);
    for (int64_t n : {1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 127, 128, 255, 2560, 2561, 6912}) {
        for (int trial = 0; trial < 6; ++trial) {
            std::vector<float> x(static_cast<size_t>(n));
            const float spread = std::ldexp(1.0f, pick(rng) % 60 - 30);
            for (float &v : x) v = normal(rng) * spread;
            // Exact ties: with max |x| = 127 * 2^k the scale is 2^-k and x = (j + 0.5) * 2^k ties.
            if (trial == 1) {
                const float unit = std::ldexp(1.0f, pick(rng) % 10 - 5);
                for (float &v : x) v = (static_cast<float>(pick(rng) % 255 - 127) + 0.5f) * unit;
                x[static_cast<size_t>(pick(rng)) % x.size()] = 127.0f * unit;
            }
            if (trial == 2) {  // one huge outlier: nearly everything rounds to 0 or +-1
                x[static_cast<size_t>(pick(rng)) % x.size()] = -3e38f;
            }
            if (trial == 3) {  // all tiny: the 1e-5 floor
                for (float &v : x) v *= 1e-12f;
            }
            if (trial == 4 && n > 2) {  // non-finite inputs: variants agree with the scalar rule
                x[0] = std::numeric_limits<float>::quiet_NaN();
                x[static_cast<size_t>(n - 1)] = std::numeric_limits<float>::infinity();
            }
            if (trial == 5 && n > 1) {
                x[1] = std::numeric_limits<float>::quiet_NaN();
            }
            expect_quantize_matches(table(), x, (n + 127) / 128 * 128 + (trial % 2) * 128);
            expect_quantize_matches(table(), x, n);
        }
    }
}

void expect_gemm_matches(const KernelTable &table, Format f, uint32_t seed, bool extreme) {
    std::mt19937 rng(seed);
    for (const Shape &shape : kShapes) {
        const int64_t n_cols = shape.blocks * block_elements(f);
        const Weights w = random_weights(f, shape.rows, n_cols, shape.rows % 2 ? 32 : 0, rng);
        Weights all_threes = w;
        if (extreme) {
            // Every 2-bit code 3 (I2_S, TQ2_0): the largest products the unsigned-code trick meets.
            for (int64_t r = 0; r < shape.rows; ++r) {
                for (int64_t b = 0; b < n_cols / block_elements(f); ++b) {
                    const int64_t code_bytes = f == Format::TQ1 ? 52 : f == Format::TQ2 ? 64 : 32;
                    std::memset(all_threes.bytes.data() + r * w.row_bytes + b * block_bytes(f), 0xff,
                                static_cast<size_t>(code_bytes));
                }
            }
        }
        const Activations a = random_activations(shape.tokens, n_cols, rng, extreme);
        const float weight_scale = 1.0f / 3.0f;
        const std::vector<float> want = run_gemm(scalar(), f, all_threes, shape.rows, n_cols, a, weight_scale);
        const std::vector<float> got = run_gemm(table, f, all_threes, shape.rows, n_cols, a, weight_scale);
        ASSERT_TRUE(bitwise_equal(got, want,
                                  std::string(table.name) + " " + format_name(f) + " rows " + std::to_string(shape.rows) +
                                      " tokens " + std::to_string(shape.tokens) + " cols " + std::to_string(n_cols)));
    }
}

TEST_P(KernelVariant, GemmI2SMatchesScalar) { expect_gemm_matches(table(), Format::I2S, 31, false); }
TEST_P(KernelVariant, GemmTQ2MatchesScalar) { expect_gemm_matches(table(), Format::TQ2, 32, false); }
TEST_P(KernelVariant, GemmTQ1MatchesScalar) { expect_gemm_matches(table(), Format::TQ1, 33, false); }
TEST_P(KernelVariant, GemmI2SMatchesScalarAtExtremes) { expect_gemm_matches(table(), Format::I2S, 41, true); }
TEST_P(KernelVariant, GemmTQ2MatchesScalarAtExtremes) { expect_gemm_matches(table(), Format::TQ2, 42, true); }
TEST_P(KernelVariant, GemmTQ1MatchesScalarAtExtremes) { expect_gemm_matches(table(), Format::TQ1, 43, true); }

// Row r of the weights is the byte value r everywhere (block scales aside): every byte value in
// every position, which covers all TQ1_0 trit patterns and all 2-bit code combinations.
TEST_P(KernelVariant, GemmMatchesScalarForEveryByteValue) {
    std::mt19937 rng(51);
    for (Format f : {Format::I2S, Format::TQ2, Format::TQ1}) {
        const int64_t n_cols = 2 * block_elements(f);
        Weights w = random_weights(f, 256, n_cols, 0, rng);
        for (int64_t r = 0; r < 256; ++r) {
            for (int64_t b = 0; b < 2; ++b) {
                const int64_t code_bytes = f == Format::I2S ? 32 : block_bytes(f) - 2;
                std::memset(w.bytes.data() + r * w.row_bytes + b * block_bytes(f), static_cast<int>(r),
                            static_cast<size_t>(code_bytes));
            }
        }
        const Activations a = random_activations(5, n_cols, rng);
        const std::vector<float> want = run_gemm(scalar(), f, w, 256, n_cols, a, 1.0f);
        const std::vector<float> got = run_gemm(table(), f, w, 256, n_cols, a, 1.0f);
        ASSERT_TRUE(bitwise_equal(got, want, std::string(table().name) + " " + format_name(f)));
    }
}

// Block dots of ~15 significant bits times f16 scales of 11 make products a float cannot hold
// exactly, so acc + d * dot rounds twice in the specification: a variant whose compiler fused the
// two steps into one FMA (GCC does by default with -mfma or on AArch64) would round differently.
TEST_P(KernelVariant, GemmMatchesScalarWhenBlockProductsRound) {
    std::mt19937 rng(53);
    std::uniform_int_distribution<int> code(100, 127), mantissa(1024, 2047);
    for (Format f : {Format::TQ2, Format::TQ1}) {
        const int64_t n_rows = 7, n_cols = 9 * block_elements(f);
        Weights w = random_weights(f, n_rows, n_cols, 0, rng);
        for (int64_t r = 0; r < n_rows; ++r) {
            for (int64_t b = 0; b < n_cols / block_elements(f); ++b) {
                uint8_t *block = w.bytes.data() + r * w.row_bytes + b * block_bytes(f);
                // Every code +1: TQ2_0 code 2 in each 2-bit field; TQ1_0 all trits 2 (byte 255 is
                // ceil(242 * 256 / 243), the fixed-point form of 22222 in base 3).
                std::memset(block, f == Format::TQ2 ? 0xAA : 0xFF, static_cast<size_t>(block_bytes(f) - 2));
                const uint16_t d = static_cast<uint16_t>((14 << 10) | (mantissa(rng) & 1023));  // full mantissa
                block[block_bytes(f) - 2] = static_cast<uint8_t>(d & 0xff);
                block[block_bytes(f) - 1] = static_cast<uint8_t>(d >> 8);
            }
        }
        Activations a = random_activations(5, n_cols, rng);
        for (QuantizedRow &row : a.rows) {
            int8_t *codes = const_cast<int8_t *>(row.codes);
            row.sum = 0;
            for (int64_t i = 0; i < n_cols; ++i) row.sum += codes[i] = static_cast<int8_t>(code(rng));
        }
        const std::vector<float> want = run_gemm(scalar(), f, w, n_rows, n_cols, a, 1.0f);
        const std::vector<float> got = run_gemm(table(), f, w, n_rows, n_cols, a, 1.0f);
        ASSERT_TRUE(bitwise_equal(got, want, std::string(table().name) + " rounding " + format_name(f)));
    }
}

// Long rows: more blocks than the SIMD kernels keep per-block activation sums for at once.
TEST_P(KernelVariant, GemmMatchesScalarOnLongRows) {
    std::mt19937 rng(61);
    for (Format f : {Format::I2S, Format::TQ2, Format::TQ1}) {
        const int64_t n_cols = 601 * block_elements(f);
        const Weights w = random_weights(f, 3, n_cols, 0, rng);
        const Activations a = random_activations(5, n_cols, rng);
        const std::vector<float> want = run_gemm(scalar(), f, w, 3, n_cols, a, 0.5f);
        const std::vector<float> got = run_gemm(table(), f, w, 3, n_cols, a, 0.5f);
        ASSERT_TRUE(bitwise_equal(got, want, std::string(table().name) + " long " + format_name(f)));
    }
}

// The CPU backend gives each thread a slice of rows: slices must agree with one whole call.
// Small batches (parallel sequences, speculative verification: issue 17): every token count from
// 2 to 17, which the driver splits into balanced tiles (5 = 3 + 2, 7 = 4 + 3, 13 = 4 + 3 + 3 + 3),
// on a row count that leaves a partial register tile, in every layout.
TEST_P(KernelVariant, GemmSmallBatchesMatchScalar) {
    std::mt19937 rng(71);
    for (Format f : {Format::I2S, Format::TQ2, Format::TQ1}) {
        const int64_t n_rows = 37, n_cols = 3 * block_elements(f);
        const Weights w = random_weights(f, n_rows, n_cols, 0, rng);
        for (int64_t n_tokens = 2; n_tokens <= 17; ++n_tokens) {
            const Activations a = random_activations(n_tokens, n_cols, rng);
            const std::vector<float> want = run_gemm(scalar(), f, w, n_rows, n_cols, a, 0.75f);
            const std::vector<float> got = run_gemm(table(), f, w, n_rows, n_cols, a, 0.75f);
            ASSERT_TRUE(bitwise_equal(got, want, std::string(table().name) + " " + format_name(f) + " tokens " +
                                                     std::to_string(n_tokens)));
        }
    }
}

TEST_P(KernelVariant, GemmRowSlicesMatchWholeCall) {
    std::mt19937 rng(71);
    for (Format f : {Format::I2S, Format::TQ2, Format::TQ1}) {
        const int64_t n_rows = 45, n_cols = 5 * block_elements(f), n_tokens = 6;
        const Weights w = random_weights(f, n_rows, n_cols, 0, rng);
        const Activations a = random_activations(n_tokens, n_cols, rng);
        const std::vector<float> whole = run_gemm(table(), f, w, n_rows, n_cols, a, 2.0f);
        std::vector<float> sliced(whole.size(), kSentinel);
        const int64_t stride = n_rows + 3;
        for (int64_t begin = 0; begin < n_rows; begin += 16) {
            const int64_t count = begin + 16 <= n_rows ? 16 : n_rows - begin;
            gemm_of(table(), f)(w.bytes.data() + begin * w.row_bytes, w.row_bytes, count, n_cols, a.rows.data(),
                                n_tokens, 2.0f, sliced.data() + begin, stride);
        }
        ASSERT_TRUE(bitwise_equal(sliced, whole, std::string(table().name) + " slices " + format_name(f)));
    }
}

// The integer part is exact: with power-of-two activation scales and weight scale 1, outputs are
// the integer dots (compared with int64 dots of the naive decoder).
TEST_P(KernelVariant, GemmIntegerPartIsExact) {
    std::mt19937 rng(81);
    const int64_t n_rows = 7, n_cols = 128 * 27, n_tokens = 5;
    const Weights w = random_weights(Format::I2S, n_rows, n_cols, 0, rng);
    Activations a = random_activations(n_tokens, n_cols, rng);
    for (size_t t = 0; t < a.rows.size(); ++t) a.rows[t].scale = std::ldexp(1.0f, static_cast<int>(t) - 2);
    const std::vector<float> out = run_gemm(table(), Format::I2S, w, n_rows, n_cols, a, 1.0f);
    for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < n_rows; ++r) {
            int64_t dot = 0;
            const uint8_t *row = w.bytes.data() + r * w.row_bytes;
            for (int64_t i = 0; i < n_cols; ++i) dot += (i2s_code(row + (i / 128) * 32, i % 128) - 1) * a.rows[t].codes[i];
            EXPECT_EQ(out[t * (n_rows + 3) + r] * a.rows[t].scale, static_cast<float>(dot));
        }
    }
}

TEST_P(KernelVariant, DotF32MatchesWithinRounding) {
    std::mt19937 rng(91);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 63, 64, 65, 100, 2560, 2561, 6912}) {
        std::vector<float> a(static_cast<size_t>(n) + 1), b(static_cast<size_t>(n) + 1);
        double want = 0.0, magnitude = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            a[i + 1] = normal(rng);
            b[i + 1] = normal(rng);
            want += static_cast<double>(a[i + 1]) * b[i + 1];
            magnitude += std::fabs(static_cast<double>(a[i + 1]) * b[i + 1]);
        }
        const float got = table().dot_f32(a.data() + 1, b.data() + 1, n);
        EXPECT_NEAR(got, want, 1e-6 * magnitude + 1e-30) << n;
    }
}

// kernels.h's rule for dot_f32, the same bits on every ISA: eight double partial sums (element i
// into partial i mod 8), folded as an 8-lane vector is folded in halves, rounded once. Inputs of
// many binades (full-range exponents) so that a different order or a float accumulator shows.
float dot_f32_rule(const float *a, const float *b, int64_t n) {
    double partial[8] = {};
    for (int64_t i = 0; i < n; ++i) partial[i % 8] += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    double half[4], quarter[2];
    for (int k = 0; k < 4; ++k) half[k] = partial[k] + partial[k + 4];
    for (int k = 0; k < 2; ++k) quarter[k] = half[k] + half[k + 2];
    return static_cast<float>(quarter[0] + quarter[1]);
}

TEST_P(KernelVariant, DotF32FollowsItsFixedRuleBitForBit) {
    std::mt19937 rng(19);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> exponent(-20, 20);
    for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 2560, 2561, 6912}) {
        std::vector<float> a(static_cast<size_t>(n) + 1), b(static_cast<size_t>(n) + 1);
        for (int64_t i = 0; i < n; ++i) {
            a[i + 1] = std::ldexp(normal(rng), exponent(rng));
            b[i + 1] = std::ldexp(normal(rng), exponent(rng));
        }
        const float got = table().dot_f32(a.data() + 1, b.data() + 1, n);
        const float want = dot_f32_rule(a.data() + 1, b.data() + 1, n);
        EXPECT_EQ(std::memcmp(&got, &want, sizeof got), 0) << "n " << n << ": " << got << " vs " << want;
    }
}

// The float-activation mode's table: the ISA's dot_f32 and gemm_float (fixed rule; once per token
// at the end), the scalar kernels wherever an ISA sums in its own order.
TEST_P(KernelVariant, FloatActivationTableTakesTheOrderedKernelsFromScalar) {
    const KernelTable t = bitnet::float_activation_kernels(table());
    EXPECT_EQ(t.dot_f32, table().dot_f32);
    EXPECT_EQ(t.gemm_float, table().gemm_float);
    EXPECT_EQ(t.quantize_activations, table().quantize_activations);
    EXPECT_EQ(t.attention_scores, scalar().attention_scores);
    EXPECT_EQ(t.attention_values, scalar().attention_values);
    EXPECT_EQ(t.rms_norm, scalar().rms_norm);
    EXPECT_EQ(t.gated_activation, scalar().gated_activation);
    EXPECT_EQ(t.softmax, scalar().softmax);
}

INSTANTIATE_TEST_SUITE_P(Available, KernelVariant, ::testing::ValuesIn(variant_names()),
                         [](const ::testing::TestParamInfo<std::string> &info) { return info.param; });

// ------------------------------------------------------------------------------------------------
// 3. Dispatch
// ------------------------------------------------------------------------------------------------

TEST(KernelDispatch, ListsScalarFirstAndPrintsWhatRuns) {
    const std::vector<const KernelTable *> tables = variants();
    ASSERT_FALSE(tables.empty());
    EXPECT_EQ(tables.front(), &scalar());
    std::string names;
    for (const KernelTable *t : tables) names += std::string(names.empty() ? "" : ", ") + t->name;
    std::printf("[ kernels  ] variants exercised on this CPU: %s; selected: %s; cpu: %s\n", names.c_str(),
                bitnet::cpu_kernels().name, bitnet::describe_cpu_features(bitnet::cpu_features()).c_str());
    // A count query with no room.
    EXPECT_EQ(bitnet::available_cpu_kernels(nullptr, 0), tables.size());
}

TEST(KernelDispatch, X86CpusWithAvx512RunEveryVariant) {
    const bitnet::CpuFeatures &f = bitnet::cpu_features();
    const size_t count = variants().size();
#if defined(__x86_64__)
    if (bitnet::cpu_runs_avx512_kernels(f)) {
        EXPECT_EQ(count, 3u) << "this CPU runs AVX-512 kernels: all three variants should be built and listed";
        EXPECT_STREQ(variants().back()->name, "avx512");
    } else if (bitnet::cpu_runs_avx2_kernels(f)) {
        EXPECT_EQ(count, 2u);
        EXPECT_STREQ(variants().back()->name, "avx2");
    }
#else
    (void)f;
    (void)count;
#endif
}

TEST(KernelDispatch, NamedLookup) {
    EXPECT_EQ(bitnet::cpu_kernels_named("scalar"), &scalar());
    EXPECT_EQ(bitnet::cpu_kernels_named(nullptr), nullptr);
    EXPECT_EQ(bitnet::cpu_kernels_named(""), nullptr);
    EXPECT_EQ(bitnet::cpu_kernels_named("sse9"), nullptr);
    EXPECT_EQ(bitnet::cpu_kernels_named("AVX2"), nullptr);  // names are exact
    for (const KernelTable *t : variants()) EXPECT_EQ(bitnet::cpu_kernels_named(t->name), t);
}

TEST(KernelDispatch, NullSlotsFallBackToScalar) {
    const KernelTable &reference = bitnet::scalar_kernels();
    KernelTable partial = *variants().back();
    partial.gemm_ternary[static_cast<size_t>(bitnet::TernaryLayout::TQ1)] = nullptr;
    partial.softmax = nullptr;
    const KernelTable completed = bitnet::complete_kernel_table(partial);
    EXPECT_STREQ(completed.name, partial.name);
    EXPECT_EQ(completed.gemm_ternary[static_cast<size_t>(bitnet::TernaryLayout::TQ1)],
              reference.gemm_ternary[static_cast<size_t>(bitnet::TernaryLayout::TQ1)]);
    EXPECT_EQ(completed.softmax, reference.softmax);
    // Slots that were there stay the variant's own.
    EXPECT_EQ(completed.gemm_ternary[static_cast<size_t>(bitnet::TernaryLayout::I2S)],
              partial.gemm_ternary[static_cast<size_t>(bitnet::TernaryLayout::I2S)]);
    EXPECT_EQ(completed.quantize_activations, partial.quantize_activations);

    // An empty table becomes the scalar one, slot for slot.
    const KernelTable empty_completed = bitnet::complete_kernel_table(KernelTable{});
    EXPECT_EQ(std::memcmp(&empty_completed, &reference, sizeof reference), 0);
}

std::vector<std::string> captured_warnings;
void capture_log(bitnet_log_level level, const char *message, void *) {
    if (level == BITNET_LOG_WARN) captured_warnings.emplace_back(message);
}

TEST(KernelDispatch, BitnetIsaSelectionRule) {
    const KernelTable *best = variants().back();
    bitnet_set_log_callback(capture_log, BITNET_LOG_DEBUG, nullptr);
    captured_warnings.clear();

    EXPECT_EQ(&bitnet::choose_cpu_kernels(nullptr), best);
    EXPECT_EQ(&bitnet::choose_cpu_kernels(""), best);
    EXPECT_EQ(&bitnet::choose_cpu_kernels("auto"), best);
    EXPECT_EQ(&bitnet::choose_cpu_kernels("scalar"), &scalar());
    for (const KernelTable *t : variants()) EXPECT_EQ(&bitnet::choose_cpu_kernels(t->name), t);
    EXPECT_TRUE(captured_warnings.empty());

    // Unknown or unavailable: the best one, with a warning naming the request.
    for (const char *request : {"bogus", "neon", "avx1024"}) {
        if (bitnet::cpu_kernels_named(request) != nullptr) continue;  // runs here ("neon" on AArch64)
        captured_warnings.clear();
        EXPECT_EQ(&bitnet::choose_cpu_kernels(request), best) << request;
        ASSERT_EQ(captured_warnings.size(), 1u) << request;
        EXPECT_NE(captured_warnings[0].find(request), std::string::npos) << captured_warnings[0];
        EXPECT_NE(captured_warnings[0].find(best->name), std::string::npos) << captured_warnings[0];
    }
    bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr);

    // The process-wide choice is the rule applied to the environment, and stays fixed.
    EXPECT_EQ(&bitnet::cpu_kernels(), &bitnet::choose_cpu_kernels(std::getenv("BITNET_ISA")));
    EXPECT_EQ(&bitnet::cpu_kernels(), &bitnet::cpu_kernels());
}

#if defined(__linux__)
// BITNET_ISA at process start: each variant, and an unknown name (which falls back to the best).
// The test re-runs itself in a child process, since the choice is made once per process.
TEST(KernelDispatch, ProcessChoiceFollowsBitnetIsa) {
    if (const char *expected = std::getenv("BITNET_KERNEL_TEST_EXPECT")) {
        EXPECT_STREQ(bitnet::cpu_kernels().name, expected);
        return;
    }
    std::vector<std::pair<std::string, std::string>> cases;  // BITNET_ISA, expected choice
    for (const KernelTable *t : variants()) cases.emplace_back(t->name, t->name);
    cases.emplace_back("bogus", variants().back()->name);
    char self[4096] = {};
    ASSERT_GT(readlink("/proc/self/exe", self, sizeof self - 1), 0);
    for (const auto &[request, expected] : cases) {
        const std::string command = "BITNET_ISA=" + request + " BITNET_KERNEL_TEST_EXPECT=" + expected + " '" + self +
                                    "' --gtest_filter=KernelDispatch.ProcessChoiceFollowsBitnetIsa > /dev/null 2>&1";
        EXPECT_EQ(std::system(command.c_str()), 0) << command;
    }
}
#endif

}  // namespace
