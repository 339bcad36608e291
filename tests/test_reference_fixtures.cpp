// The double-precision reference (tests/reference/) against results computed by an independent
// float64 implementation: greedy decoding of the aidreams260K fixtures from BOS, in float-activation,
// int8-activation (A8) and A8 + F16 KV cache modes (fixtures/README.md, tiny/). Also the building
// blocks the fixtures cannot reach (they store every projection as F32): the ternary decoders on
// hand-packed blocks, activation rounding and binary16 rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "reference/reference.h"
#include "support/model_builder.h"
#include "support/test_support.h"

namespace {

using namespace bitnet_reference;

constexpr int kBosToken = 1;
constexpr int kSteps = 24;

struct TopEntry {
    int token;
    double logit;
};

struct StepSummary {
    int top1 = -1, top2 = -1;
    double margin = 0.0;
};

// One *.expected*.txt file: "step N: top1 A top2 B margin M", "greedy t0 t1 ...",
// "top5 stepN [(id, logit), ...]".
struct Expected {
    std::vector<int> greedy;
    std::vector<StepSummary> steps;
    std::vector<std::vector<TopEntry>> top5;  // indexed by step
};

Expected parse_expected(const std::string &path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    Expected expected;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("greedy ", 0) == 0) {
            std::istringstream fields(line.substr(7));
            for (int token; fields >> token;) expected.greedy.push_back(token);
        } else if (line.rfind("step ", 0) == 0) {
            StepSummary step;
            int index = -1;
            if (std::sscanf(line.c_str(), "step %d: top1 %d top2 %d margin %lf", &index, &step.top1, &step.top2,
                            &step.margin) == 4) {
                if (static_cast<int>(expected.steps.size()) <= index) expected.steps.resize(index + 1);
                expected.steps[index] = step;
            }
        } else if (line.rfind("top5 step", 0) == 0) {
            const int index = std::stoi(line.substr(9));
            if (static_cast<int>(expected.top5.size()) <= index) expected.top5.resize(index + 1);
            // Entries look like "(319, 9.9619)".
            for (size_t open = line.find('('); open != std::string::npos; open = line.find('(', open + 1)) {
                TopEntry entry{};
                if (std::sscanf(line.c_str() + open, "(%d, %lf)", &entry.token, &entry.logit) == 2)
                    expected.top5[index].push_back(entry);
            }
        }
    }
    return expected;
}

struct Case {
    const char *model;     // under tiny/, without ".gguf"
    const char *expected;  // expected-file suffix
    bool quantize_activations;
    bool kv_f16;
};

void PrintTo(const Case &c, std::ostream *out) {
    *out << c.model << " vs " << c.expected << (c.quantize_activations ? " (int8 activations" : " (float activations")
         << (c.kv_f16 ? ", f16 KV)" : ")");
}

std::string case_name(const testing::TestParamInfo<Case> &info) {
    std::string name = std::string(info.param.model) + "_" + info.param.expected;
    for (char &c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

class ReferenceFixture : public testing::TestWithParam<Case> {};

// Every expected file that exists: aidreams260K-f32 is a float `llama` model, so only its
// float-activation file exists (int8 activations do not apply to float projections).
const Case kCases[] = {
    {"aidreams260K-f32", "expected", false, false},
    {"aidreams260K-bitnet-ternary-f32", "expected", false, false},
    {"aidreams260K-bitnet-ternary-f32", "expected-a8", true, false},
    {"aidreams260K-bitnet-ternary-f32", "expected-a8-kvf16", true, true},
    {"aidreams260K-bitnet-ternary-scaled", "expected", false, false},
    {"aidreams260K-bitnet-ternary-scaled", "expected-a8", true, false},
    {"aidreams260K-bitnet-ternary-scaled", "expected-a8-kvf16", true, true},
};

TEST_P(ReferenceFixture, GreedyDecodeMatchesIndependentFloat64Results) {
    const Case &c = GetParam();
    BITNET_REQUIRE_FIXTURE(model_path, std::string("tiny/") + c.model + ".gguf");
    BITNET_REQUIRE_FIXTURE(expected_path, std::string("tiny/") + c.model + "." + c.expected + ".txt");
    const Expected expected = parse_expected(expected_path);
    ASSERT_EQ(expected.greedy.size(), static_cast<size_t>(kSteps));
    ASSERT_EQ(expected.steps.size(), static_cast<size_t>(kSteps));
    ASSERT_GE(expected.top5.size(), 3u);

    const Model model = Model::load(model_path);
    Options options;
    options.quantize_activations = c.quantize_activations;
    options.kv_f16 = c.kv_f16;
    std::vector<std::vector<double>> logits;
    const std::vector<int> tokens = greedy(model, kBosToken, kSteps, options, &logits);

    EXPECT_EQ(tokens, expected.greedy);
    for (int step = 0; step < kSteps; ++step) {
        // Top two and their margin: the file prints margins to 5 decimals.
        std::vector<int> order(logits[step].size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
        std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                          [&](int a, int b) { return logits[step][a] > logits[step][b]; });
        const StepSummary &want = expected.steps[step];
        EXPECT_EQ(order[0], want.top1) << "step " << step;
        EXPECT_EQ(order[1], want.top2) << "step " << step;
        EXPECT_NEAR(logits[step][order[0]] - logits[step][order[1]], want.margin, 1e-5) << "step " << step;
        if (step >= static_cast<int>(expected.top5.size())) continue;
        const std::vector<TopEntry> &top5 = expected.top5[step];
        ASSERT_EQ(top5.size(), 5u) << "step " << step;
        for (int rank = 0; rank < 5; ++rank) {
            EXPECT_EQ(order[rank], top5[rank].token) << "step " << step << " rank " << rank;
            // Printed to 4 decimals: a float64 implementation of the same graph is within 5e-5.
            EXPECT_NEAR(logits[step][top5[rank].token], top5[rank].logit, 1e-4) << "step " << step << " rank " << rank;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Tiny, ReferenceFixture, testing::ValuesIn(kCases), case_name);

TEST(ReferenceModel, ReadsTheFixtureHyperparameters) {
    BITNET_REQUIRE_FIXTURE(path, "tiny/aidreams260K-bitnet-ternary-scaled.gguf");
    const Model model = Model::load(path);
    const HyperParameters &hp = model.hparams();
    EXPECT_EQ(hp.architecture, "bitnet");
    EXPECT_EQ(hp.n_vocab, 512);
    EXPECT_EQ(hp.n_embd, 64);
    EXPECT_EQ(hp.n_layer, 4);
    EXPECT_EQ(hp.n_ff, 172);
    EXPECT_EQ(hp.n_head, 4);
    EXPECT_EQ(hp.n_head_kv, 4);
    EXPECT_EQ(hp.head_dim, 16);
    EXPECT_EQ(hp.n_rot, 16);
    EXPECT_TRUE(hp.sub_norms);
    EXPECT_EQ(hp.activation, FfnActivation::Silu);  // no bitnet.hidden_activation key
    EXPECT_EQ(hp.rope_style, RopeStyle::Neox);
    EXPECT_TRUE(model.tied_embedding());
    const Weight &q = model.layer(0).projection(Projection::Q);
    EXPECT_TRUE(q.bitlinear);
    EXPECT_NE(q.output_scale, 1.0);  // blk.0.attn_q.scale
}

// The "-f32" file stores ternary x alpha, the "-scaled" file {-1,0,1} plus a .scale tensor: the
// effective weights, and so every logit, must agree.
TEST(ReferenceModel, ScaleTensorsGiveTheSameWeightsAsPrescaledValues) {
    BITNET_REQUIRE_FIXTURE(prescaled_path, "tiny/aidreams260K-bitnet-ternary-f32.gguf");
    BITNET_REQUIRE_FIXTURE(scaled_path, "tiny/aidreams260K-bitnet-ternary-scaled.gguf");
    const Model prescaled = Model::load(prescaled_path), scaled = Model::load(scaled_path);
    for (int p = 0; p < kProjectionCount; ++p) {
        const Weight &a = prescaled.layer(2).projection(static_cast<Projection>(p));
        const Weight &b = scaled.layer(2).projection(static_cast<Projection>(p));
        ASSERT_EQ(a.rows, b.rows);
        for (int row = 0; row < a.rows; row += 7)
            for (int col = 0; col < a.cols; ++col)
                ASSERT_NEAR(a.effective(row, col), b.effective(row, col), 1e-7 * std::fabs(a.effective(row, col)))
                    << projection_name(static_cast<Projection>(p)) << " " << row << "," << col;
    }
}

// Non-ternary float projections of a bitnet file: the reference applies the Hugging Face weight
// quantizer (formats.md §3.3) per tensor: s = max(mean|W|, 1e-5), W_eff = clamp(round(W / s), -1, 1) * s,
// with round half to even. Checked here against that formula written out on the stored values.
TEST(ReferenceModel, NonTernaryFloatProjectionsAreTernarizedWithAbsmean) {
    bitnet_test::ModelSpec spec;
    spec.ternary = false;
    spec.projection_type = bitnet::TensorType::F32;
    const std::vector<uint8_t> bytes = bitnet_test::build_model(spec);
    const Model model = Model::from_image(bytes.data(), bytes.size());
    const bitnet::gguf::File file = bitnet::gguf::File::parse(bytes.data(), bytes.size());
    for (int p = 0; p < kProjectionCount; ++p) {
        const Projection which = static_cast<Projection>(p);
        const Weight &weight = model.layer(1).projection(which);
        const bitnet::gguf::TensorInfo *info =
            file.find_tensor(std::string("blk.1.") + projection_name(which) + ".weight");
        ASSERT_NE(info, nullptr);
        std::vector<float> stored(static_cast<size_t>(weight.rows) * weight.cols);
        std::memcpy(stored.data(), info->data, stored.size() * sizeof(float));
        double sum = 0.0;
        for (float w : stored) sum += std::fabs(static_cast<double>(w));
        const double s = std::max(sum / static_cast<double>(stored.size()), 1e-5);
        int nonzero = 0, clamped = 0;
        ASSERT_TRUE(weight.bitlinear) << projection_name(which);
        for (int row = 0; row < weight.rows; ++row) {
            for (int col = 0; col < weight.cols; ++col) {
                const double w = stored[static_cast<size_t>(row) * weight.cols + col];
                const double code = std::clamp(std::nearbyint(w / s), -1.0, 1.0);
                nonzero += code != 0.0;
                clamped += std::fabs(w / s) >= 1.5;
                ASSERT_EQ(weight.effective(row, col), code * s) << projection_name(which) << " " << row << "," << col;
            }
        }
        // Arbitrary weights: many zeros, many non-zeros, and some clamped from beyond +-1.
        EXPECT_GT(nonzero, weight.rows * weight.cols / 4);
        EXPECT_LT(nonzero, weight.rows * weight.cols);
        EXPECT_GT(clamped, 0);
    }
}

// Float projections in a `llama` file are never quantized, so A8 mode changes nothing.
TEST(ReferenceModel, FloatLlamaIgnoresActivationQuantization) {
    BITNET_REQUIRE_FIXTURE(path, "tiny/aidreams260K-f32.gguf");
    const Model model = Model::load(path);
    const std::vector<int> tokens = {1, 319, 459, 355};
    Options float_mode;
    float_mode.quantize_activations = false;
    const auto a = forward(model, tokens, float_mode);
    const auto b = forward(model, tokens, Options{});
    EXPECT_EQ(a, b);
}

TEST(ReferenceBlocks, QuantizeActivationsRoundsHalfToEvenAndClamps) {
    // max|x| = 127 makes the scale exactly 1, so the inputs are the unrounded codes.
    const std::vector<double> input = {127.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -127.0};
    std::vector<int8_t> codes;
    EXPECT_EQ(quantize_activations(input, &codes), 1.0);
    EXPECT_EQ(codes, (std::vector<int8_t>{127, 0, 2, 2, 0, -2, -2, 3, -127}));
    // An all-zero token uses the 1e-5 floor instead of dividing by zero.
    EXPECT_DOUBLE_EQ(quantize_activations({0.0, 0.0}, &codes), 127.0 / 1e-5);
    EXPECT_EQ(codes, (std::vector<int8_t>{0, 0}));
}

TEST(ReferenceBlocks, BitLinearInt8IsTheIntegerDotTimesScales) {
    Weight weight;
    weight.rows = 1;
    weight.cols = 4;
    weight.bitlinear = true;
    weight.ternary = {1, 4, 4, {1, -1, 0, 1}, {0.5}};
    weight.output_scale = 2.0;
    const std::vector<double> input = {1.0, -2.0, 3.0, 0.26};  // s = 127/3: codes 42, -85, 127, 11
    const double s = 127.0 / 3.0;
    EXPECT_DOUBLE_EQ(matmul(weight, input, true)[0], (42 + 85 + 11) * 0.5 / s * 2.0);
    EXPECT_DOUBLE_EQ(matmul(weight, input, false)[0], (1.0 + 2.0 + 0.26) * 0.5 * 2.0);
}

TEST(ReferenceBlocks, HalfRoundingIsNearestEven) {
    EXPECT_EQ(round_to_half(1.0), 1.0);
    EXPECT_EQ(round_to_half(1.0 + std::ldexp(1.0, -11)), 1.0);                             // tie -> even
    EXPECT_EQ(round_to_half(1.0 + 3 * std::ldexp(1.0, -11)), 1.0 + std::ldexp(1.0, -9));   // tie -> even
    EXPECT_EQ(round_to_half(1.0 + std::ldexp(1.0, -11) + 1e-12), 1.0 + std::ldexp(1.0, -10));
    EXPECT_EQ(round_to_half(-65504.0), -65504.0);
    EXPECT_EQ(round_to_half(65519.0), 65504.0);
    EXPECT_TRUE(std::isinf(round_to_half(65520.0)));
    EXPECT_EQ(round_to_half(std::ldexp(1.0, -25)), 0.0);                                   // tie -> even (0)
    EXPECT_EQ(round_to_half(std::ldexp(3.0, -25)), std::ldexp(1.0, -23));                  // tie -> even
    EXPECT_EQ(round_to_half(0.1), half_to_double(0x2e66));
    EXPECT_EQ(half_to_double(0x3c00), 1.0);
    EXPECT_EQ(half_to_double(0x0001), std::ldexp(1.0, -24));
    EXPECT_EQ(half_to_double(0xc000), -2.0);
    EXPECT_EQ(bfloat16_to_double(0x3fc0), 1.5);
}

// Hand-packed blocks, built from the layout descriptions in formats.md with a deterministic
// pseudo-random ternary pattern.
int pattern(int index) { return (index * 7 + index / 5) % 3 - 1; }

void put_half(uint8_t *at, uint16_t bits) {
    at[0] = static_cast<uint8_t>(bits & 0xff);
    at[1] = static_cast<uint8_t>(bits >> 8);
}

TEST(ReferenceDecode, I2SHighBitsHoldTheFirstGroup) {
    const int rows = 2, cols = 256;
    std::vector<uint8_t> bytes(rows * cols / 4 + 32, 0);
    for (int k = 0; k < rows * cols; ++k) {
        const int block = k / 128, p = k % 128;
        bytes[32 * block + p % 32] |= static_cast<uint8_t>((pattern(k) + 1) << (6 - 2 * (p / 32)));
    }
    const float scale = 0.375f;
    std::memcpy(bytes.data() + rows * cols / 4, &scale, 4);
    const TernaryTensor t = decode_ternary(bitnet::TensorType::I2_S, bytes.data(), rows, cols);
    ASSERT_EQ(t.codes.size(), static_cast<size_t>(rows * cols));
    for (int k = 0; k < rows * cols; ++k) ASSERT_EQ(t.codes[k], pattern(k)) << k;
    EXPECT_EQ(t.block, cols);
    EXPECT_EQ(t.scales, (std::vector<double>{0.375, 0.375}));
    // Element 0 is bits 7:6 of byte 0, element 32 bits 5:4, element 1 bits 7:6 of byte 1.
    std::vector<uint8_t> single(128 / 4 + 32, 0x55);  // every code 1 -> 0
    single[0] = 0x95;                                 // 10 01 01 01: element 0 -> +1
    std::memcpy(single.data() + 32, &scale, 4);
    const TernaryTensor one = decode_ternary(bitnet::TensorType::I2_S, single.data(), 1, 128);
    EXPECT_EQ(one.codes[0], 1);
    EXPECT_EQ(one.codes[32], 0);
    EXPECT_EQ(decode_dense(bitnet::TensorType::I2_S, single.data(), 1, 128)[0], 0.375);
    single[0] = 0xd5;  // code 3 is not ternary
    EXPECT_THROW(decode_ternary(bitnet::TensorType::I2_S, single.data(), 1, 128), std::runtime_error);
}

TEST(ReferenceDecode, TQ2_0LowBitsHoldTheFirstGroup) {
    std::vector<uint8_t> bytes(2 * 66, 0);
    for (int b = 0; b < 2; ++b) {
        for (int e = 0; e < 256; ++e) {
            const int c = e / 128, l = (e % 128) / 32, m = e % 32;
            bytes[66 * b + 32 * c + m] |= static_cast<uint8_t>((pattern(256 * b + e) + 1) << (2 * l));
        }
        put_half(bytes.data() + 66 * b + 64, b == 0 ? 0x3800 : 0xc000);  // 0.5, -2
    }
    const TernaryTensor t = decode_ternary(bitnet::TensorType::TQ2_0, bytes.data(), 1, 512);
    for (int k = 0; k < 512; ++k) ASSERT_EQ(t.codes[k], pattern(k)) << k;
    EXPECT_EQ(t.block, 256);
    EXPECT_EQ(t.scales, (std::vector<double>{0.5, -2.0}));
    const std::vector<double> dense = decode_dense(bitnet::TensorType::TQ2_0, bytes.data(), 1, 512);
    EXPECT_EQ(dense[300], pattern(300) * -2.0);
}

TEST(ReferenceDecode, TQ1_0BaseThreeFractions) {
    // Pack as ggml's quantize_row_tq1_0_ref: q = sum of trits, most significant first; byte =
    // ceil(q * 256 / 243); qh packs 4 trits and one more factor of 3.
    std::vector<uint8_t> bytes(54, 0);
    auto code = [](int element) { return pattern(element) + 1; };
    for (int m = 0; m < 32; ++m) {
        int q = 0;
        for (int n = 0; n < 5; ++n) q = q * 3 + code(32 * n + m);
        bytes[m] = static_cast<uint8_t>((q * 256 + 242) / 243);
    }
    for (int m = 0; m < 16; ++m) {
        int q = 0;
        for (int n = 0; n < 5; ++n) q = q * 3 + code(160 + 16 * n + m);
        bytes[32 + m] = static_cast<uint8_t>((q * 256 + 242) / 243);
    }
    for (int j = 0; j < 4; ++j) {
        int q = 0;
        for (int n = 0; n < 4; ++n) q = q * 3 + code(240 + 4 * n + j);
        q *= 3;
        bytes[48 + j] = static_cast<uint8_t>((q * 256 + 242) / 243);
    }
    put_half(bytes.data() + 52, 0x3400);  // 0.25
    const TernaryTensor t = decode_ternary(bitnet::TensorType::TQ1_0, bytes.data(), 1, 256);
    for (int k = 0; k < 256; ++k) ASSERT_EQ(t.codes[k], pattern(k)) << k;
    EXPECT_EQ(t.scales, (std::vector<double>{0.25}));
}

TEST(ReferenceDecode, BlockFloatTypes) {
    // Q8_0: d = 0.5, qs[j] = j - 16.
    std::vector<uint8_t> q8(34);
    put_half(q8.data(), 0x3800);
    for (int j = 0; j < 32; ++j) q8[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
    const std::vector<double> q8_values = decode_dense(bitnet::TensorType::Q8_0, q8.data(), 1, 32);
    for (int j = 0; j < 32; ++j) ASSERT_EQ(q8_values[j], (j - 16) * 0.5);

    // Q4_0: d = 2, low nibble j, high nibble 15 - j.
    std::vector<uint8_t> q4(18);
    put_half(q4.data(), 0x4000);
    for (int j = 0; j < 16; ++j) q4[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const std::vector<double> q4_values = decode_dense(bitnet::TensorType::Q4_0, q4.data(), 1, 32);
    for (int j = 0; j < 16; ++j) {
        ASSERT_EQ(q4_values[j], (j - 8) * 2.0);
        ASSERT_EQ(q4_values[j + 16], (15 - j - 8) * 2.0);
    }

    // Q6_K: build each element's 6-bit value v(e) = e % 64, scales sc[i] = i - 8, d = 1, and
    // scatter the bits with the layout of formats.md §1.6.
    std::vector<uint8_t> q6(210, 0);
    auto value = [](int e) { return e % 64; };
    for (int half = 0; half < 2; ++half) {
        uint8_t *ql = q6.data() + 64 * half, *qh = q6.data() + 128 + 32 * half;
        for (int l = 0; l < 32; ++l) {
            const int base = 128 * half;
            const int v1 = value(base + l), v2 = value(base + l + 32), v3 = value(base + l + 64),
                      v4 = value(base + l + 96);
            ql[l] = static_cast<uint8_t>((v1 & 0xf) | ((v3 & 0xf) << 4));
            ql[l + 32] = static_cast<uint8_t>((v2 & 0xf) | ((v4 & 0xf) << 4));
            qh[l] = static_cast<uint8_t>((v1 >> 4) | ((v2 >> 4) << 2) | ((v3 >> 4) << 4) | ((v4 >> 4) << 6));
        }
    }
    for (int i = 0; i < 16; ++i) q6[192 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 8));
    put_half(q6.data() + 208, 0x3c00);
    const std::vector<double> q6_values = decode_dense(bitnet::TensorType::Q6_K, q6.data(), 1, 256);
    for (int e = 0; e < 256; ++e) ASSERT_EQ(q6_values[e], (value(e) - 32) * (e / 16 - 8)) << e;
}

}  // namespace
