// Tests of the quantized lm_head with int8 activations (kernels/kernels.h: quantize_head_activations
// and the gemm_head_a8 slot of every kernel variant this CPU can run).
//
// 1. quantize_head_activations against its definition, on hand-made blocks (round half to even,
//    the all-zero block).
// 2. gemm_head_a8 of every variant (scalar included) against a double-precision sum computed here:
//    weights decoded one element at a time from formats.md §1.6 (a decoder written in this file,
//    not the engine's) times the activations' codes times their block scale. Integer dots are exact,
//    so the only allowed difference is float summation over the 32-element groups: within 1e-6 of
//    the sum of the magnitudes of the terms (the bound kernels.h states). Odd sizes (rows not a
//    multiple of any vector or tile width, 1 to 6 tokens: tiles of 4 plus a remainder).
// 3. Batch invariance: a token's logits are bit-identical whether it is computed alone or with
//    others, and whatever the row split (the CPU backend splits rows across threads).
// Outputs are surrounded by sentinels that must stay untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "util/half.h"  // float_to_half only, to build inputs

using bitnet::HeadActivations;
using bitnet::KernelTable;
using bitnet::TensorType;

namespace {

std::vector<const KernelTable *> variants() {
    const KernelTable *tables[8] = {};
    const size_t count = bitnet::available_cpu_kernels(tables, 8);
    return std::vector<const KernelTable *>(tables, tables + (count < 8 ? count : 8));
}

double half_value(uint16_t bits) {  // IEEE binary16; no inf/NaN in these inputs
    const int sign = bits >> 15, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    return sign ? -magnitude : magnitude;
}
double half_at(const uint8_t *p) { return half_value(static_cast<uint16_t>(p[0] | p[1] << 8)); }

struct HeadType {
    TensorType type;
    const char *name;
    int64_t block_elements, block_bytes;
};
constexpr HeadType kTypes[] = {
    {TensorType::Q8_0, "Q8_0", 32, 34}, {TensorType::Q4_0, "Q4_0", 32, 18}, {TensorType::Q6_K, "Q6_K", 256, 210}};

// Element i of a row, from formats.md §1.6.
double weight(const HeadType &t, const uint8_t *row, int64_t i) {
    const uint8_t *block = row + (i / t.block_elements) * t.block_bytes;
    const int j = static_cast<int>(i % t.block_elements);
    if (t.type == TensorType::Q8_0) return half_at(block) * static_cast<int8_t>(block[2 + j]);  // d, qs[32]
    if (t.type == TensorType::Q4_0) {  // d, qs[16]: elements 0..15 low nibbles, 16..31 high nibbles, minus 8
        const uint8_t q = block[2 + j % 16];
        return half_at(block) * ((j < 16 ? q & 15 : q >> 4) - 8);
    }
    // Q6_K: ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208. Element j = 128h + 32k + l:
    // ql byte ql[64h + l + 32 (k odd)], its low nibble for k < 2 else its high nibble, bits 2k+1..2k
    // of qh[32h + l] on top, minus 32, times d * scales[j / 16].
    const int h = j / 128, k = (j % 128) / 32, l = j % 32;
    const uint8_t low_byte = block[64 * h + l + 32 * (k % 2)];
    const int nibble = k < 2 ? low_byte & 15 : low_byte >> 4;
    const int top = block[128 + 32 * h + l] >> (2 * k) & 3;
    const auto scale = static_cast<int8_t>(block[192 + j / 16]);
    return half_at(block + 208) * scale * ((nibble | top << 4) - 32);
}

struct Activations {
    std::vector<int8_t> codes;
    std::vector<float> scales;
};

Activations quantize(const std::vector<float> &x) {
    Activations a{std::vector<int8_t>(x.size()), std::vector<float>(x.size() / 32)};
    bitnet::quantize_head_activations(x.data(), static_cast<int64_t>(x.size()), a.codes.data(), a.scales.data());
    return a;
}

TEST(QuantizeHeadActivations, FollowsItsDefinition) {
    std::vector<float> x(64, 0.0f);
    // Block 0: amax 127, so the inverse scale is exactly 1 and codes are x rounded half to even.
    const float block0[8] = {127.0f, -127.0f, 2.5f, 3.5f, -2.5f, 0.49f, -0.51f, 126.5f};
    std::memcpy(x.data(), block0, sizeof block0);
    // Block 1 stays all zero: scale 0, codes 0.
    const Activations a = quantize(x);
    EXPECT_EQ(a.scales[0], 1.0f);
    const int expected[8] = {127, -127, 2, 4, -2, 0, -1, 126};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(a.codes[i], expected[i]) << "element " << i;
    for (int i = 8; i < 32; ++i) EXPECT_EQ(a.codes[i], 0);
    EXPECT_EQ(a.scales[1], 0.0f);
    for (int i = 32; i < 64; ++i) EXPECT_EQ(a.codes[i], 0);

    // amax 2: inverse 63.5, scale 2/127; 1.0 -> 63.5 -> 64 (even), -0.5 -> -31.75 -> -32.
    std::vector<float> y(32, 0.0f);
    y[0] = 2.0f, y[1] = 1.0f, y[2] = -0.5f, y[3] = -2.0f;
    const Activations b = quantize(y);
    EXPECT_EQ(b.scales[0], 2.0f / 127.0f);
    EXPECT_EQ(b.codes[0], 127);
    EXPECT_EQ(b.codes[1], 64);
    EXPECT_EQ(b.codes[2], -32);
    EXPECT_EQ(b.codes[3], -127);
}

constexpr float kSentinel = -12345.0f;
// More than one token tile of every variant (AVX-512 takes 8 tokens at a time, the others 4).
constexpr int64_t kTokens = 11;

struct Case {
    std::vector<uint8_t> weights;
    size_t row_bytes;
    int64_t n_rows, n_cols, n_tokens;
    std::vector<Activations> tokens;
    std::vector<HeadActivations> rows;
};

Case make_case(const HeadType &t, int64_t n_rows, int64_t n_blocks, int64_t n_tokens, std::mt19937_64 &random) {
    Case c;
    c.n_rows = n_rows, c.n_cols = n_blocks * t.block_elements, c.n_tokens = n_tokens;
    c.row_bytes = static_cast<size_t>(n_blocks * t.block_bytes);
    // Random code bytes (every bit pattern is a valid code, Q8_0's -128 included) and a random f16
    // d per block (Q6_K: its int8 sub-block scales are random bytes too).
    c.weights.resize(static_cast<size_t>(n_rows * n_blocks * t.block_bytes));
    for (auto &byte : c.weights) byte = static_cast<uint8_t>(random());
    std::uniform_real_distribution<float> scale(-0.01f, 0.01f);
    const int64_t d_offset = t.type == TensorType::Q6_K ? 208 : 0;
    for (int64_t b = 0; b < n_rows * n_blocks; ++b) {
        const uint16_t d = bitnet::float_to_half(scale(random));
        c.weights[static_cast<size_t>(b * t.block_bytes + d_offset)] = static_cast<uint8_t>(d & 0xff);
        c.weights[static_cast<size_t>(b * t.block_bytes + d_offset + 1)] = static_cast<uint8_t>(d >> 8);
    }
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t k = 0; k < n_tokens; ++k) {
        std::vector<float> x(static_cast<size_t>(c.n_cols));
        for (auto &v : x) v = normal(random) * (k % 2 ? 30.0f : 0.2f);
        if (k == 2) std::fill(x.begin(), x.begin() + 32, 0.0f);  // a zero block
        c.tokens.push_back(quantize(x));
    }
    for (const Activations &a : c.tokens) c.rows.push_back(HeadActivations{a.codes.data(), a.scales.data()});
    return c;
}

// out[t][r] for rows [0, n_rows) computed in pieces split at `split`, in an output whose stride
// leaves a sentinel gap after each token's logits.
std::vector<float> run(const KernelTable &k, TensorType type, const Case &c, int64_t split, int64_t first_token,
                       int64_t n_tokens) {
    const int64_t stride = c.n_rows + 3;
    std::vector<float> out(static_cast<size_t>(n_tokens * stride), kSentinel);
    const HeadActivations *x = c.rows.data() + first_token;
    k.gemm_head_a8(type, c.weights.data(), c.row_bytes, split, c.n_cols, x, n_tokens, out.data(), stride);
    k.gemm_head_a8(type, c.weights.data() + split * c.row_bytes, c.row_bytes, c.n_rows - split, c.n_cols, x, n_tokens,
                   out.data() + split, stride);
    for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = c.n_rows; r < stride; ++r) EXPECT_EQ(out[t * stride + r], kSentinel) << "wrote past row end";
    }
    return out;
}

TEST(GemmHeadA8, EveryVariantMatchesTheFormatDefinition) {
    std::mt19937_64 random(17);
    for (const HeadType &t : kTypes) {
        for (const int64_t n_blocks : {int64_t{1}, t.block_elements == 32 ? int64_t{13} : int64_t{3}}) {
            for (const int64_t n_rows : {int64_t{1}, int64_t{7}, int64_t{67}}) {
                const Case c = make_case(t, n_rows, n_blocks, kTokens, random);
                const int64_t stride = c.n_rows + 3;
                for (const KernelTable *k : variants()) {
                    SCOPED_TRACE(std::string(k->name) + " " + t.name + " rows " + std::to_string(n_rows) + " cols " +
                                 std::to_string(c.n_cols));
                    const std::vector<float> out = run(*k, t.type, c, n_rows / 2, 0, c.n_tokens);
                    for (int64_t tok = 0; tok < c.n_tokens; ++tok) {
                        const Activations &a = c.tokens[tok];
                        for (int64_t r = 0; r < n_rows; ++r) {
                            const uint8_t *row = c.weights.data() + r * c.row_bytes;
                            double sum = 0.0, magnitude = 0.0;
                            for (int64_t i = 0; i < c.n_cols; ++i) {
                                const double term = weight(t, row, i) * a.codes[i] * static_cast<double>(a.scales[i / 32]);
                                sum += term;
                                magnitude += std::fabs(term);
                            }
                            EXPECT_NEAR(out[tok * stride + r], sum, 1e-6 * magnitude + 1e-30)
                                << "token " << tok << " row " << r;
                        }
                    }
                }
            }
        }
    }
}

TEST(GemmHeadA8, LogitsDoNotDependOnTheBatchOrTheRowSplit) {
    std::mt19937_64 random(1717);
    for (const HeadType &t : kTypes) {
        const int64_t n_rows = 131;
        const Case c = make_case(t, n_rows, t.block_elements == 32 ? 10 : 2, kTokens, random);
        const int64_t stride = n_rows + 3;
        for (const KernelTable *k : variants()) {
            SCOPED_TRACE(std::string(k->name) + " " + t.name);
            const std::vector<float> together = run(*k, t.type, c, 64, 0, c.n_tokens);
            for (int64_t tok = 0; tok < c.n_tokens; ++tok) {
                for (const int64_t split : {int64_t{0}, int64_t{1}, int64_t{77}}) {
                    const std::vector<float> alone = run(*k, t.type, c, split, tok, 1);
                    EXPECT_EQ(0, std::memcmp(alone.data(), together.data() + tok * stride, n_rows * sizeof(float)))
                        << "token " << tok << " split " << split;
                }
            }
        }
    }
}

}  // namespace
