// bitnet quantize (tools/quantize/): ternary round trips keep the ternary values and scales
// exactly (checked with the reference's own decoders and by the logits), the layout follows the
// target type, and bad requests fail with a message and leave no output file.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "quantize/quantize.h"
#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/model_builder.h"
#include "support/process.h"
#include "support/test_support.h"
#include "util/error.h"

namespace {

using bitnet::TensorType;

// An official-layout I2_S model (no hidden_activation key: ReLU² by the layout's default).
std::string official_i2s_model() {
    bitnet_test::ModelSpec spec;
    spec.architecture = "bitnet-b1.58";
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.projection_type = TensorType::I2_S;
    spec.embedding_type = TensorType::F16;
    spec.activation = "";
    return bitnet_test::write_temp("quantize-source-i2s.gguf", bitnet_test::build_model(spec));
}

std::string quantize(const std::string &in, const std::string &name, bitnet::QuantizeOptions options,
                     std::vector<std::string> *notes = nullptr) {
    const std::string out = bitnet_test::temp_dir() + "/" + name;
    const bitnet::QuantizeResult result = bitnet::quantize_model(in, out, options);
    if (notes) *notes = result.notes;
    return out;
}

bitnet::QuantizeOptions to(TensorType type) {
    bitnet::QuantizeOptions options;
    options.projection_type = type;
    return options;
}

std::vector<int> tokens() { return {1, 5, 9, 2, 7, 7, 3, 11, 4, 0, 8, 6}; }

std::vector<std::vector<float>> float_logits(const std::string &path) {
    auto model = bitnet_test::load_model(path);
    if (!model) return {};
    bitnet_test::RunOptions options;
    options.quantize_activations = false;
    return bitnet_test::engine_logits(model.get(), tokens(), options);
}

double worst_rel_rms(const std::vector<std::vector<float>> &a, const std::vector<std::vector<float>> &b) {
    double worst = 0.0;
    for (size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, bitnet_test::relative_rms(a[i], std::vector<double>(b[i].begin(), b[i].end())));
    }
    return worst;
}

// Every projection of the two files holds the same ternary values with the same effective scales,
// decoded by tests/reference (independent of the engine's decoders and of the quantizer).
void expect_same_ternary_projections(const std::string &a_path, const std::string &b_path) {
    const std::vector<uint8_t> a_bytes = bitnet_test::read_file(a_path), b_bytes = bitnet_test::read_file(b_path);
    const auto a = bitnet::gguf::File::parse(a_bytes.data(), a_bytes.size());
    const auto b = bitnet::gguf::File::parse(b_bytes.data(), b_bytes.size());
    int compared = 0;
    for (const auto &ta : a.tensors()) {
        if (!bitnet::tensor_type_traits(ta.type).ternary) continue;
        const auto *tb = b.find_tensor(ta.name);
        ASSERT_NE(tb, nullptr) << ta.name;
        ASSERT_TRUE(bitnet::tensor_type_traits(tb->type).ternary) << ta.name;
        const int rows = static_cast<int>(ta.rows()), cols = static_cast<int>(ta.dims[0]);
        const auto da = bitnet_reference::decode_ternary(ta.type, ta.data, rows, cols);
        const auto db = bitnet_reference::decode_ternary(tb->type, tb->data, rows, cols);
        ASSERT_EQ(da.codes, db.codes) << ta.name;
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) {
                const double sa = da.scales[static_cast<size_t>(r) * (cols / da.block) + c / da.block];
                const double sb = db.scales[static_cast<size_t>(r) * (cols / db.block) + c / db.block];
                const int code = da.codes[static_cast<size_t>(r) * cols + c];
                if (code != 0) {
                    ASSERT_EQ(sa, sb) << ta.name << " row " << r << " col " << c;
                }
            }
        }
        ++compared;
    }
    EXPECT_EQ(compared, 2 * 7);
}

std::string architecture_of(const std::string &path) {
    const std::vector<uint8_t> bytes = bitnet_test::read_file(path);
    return bitnet::gguf::File::parse(bytes.data(), bytes.size()).architecture();
}

class TernaryRoundTrip : public ::testing::TestWithParam<TensorType> {};

TEST_P(TernaryRoundTrip, I2sToTqAndBackKeepsTernaryValuesScalesAndLogits) {
    const TensorType tq = GetParam();
    const std::string name = bitnet::tensor_type_name(tq);
    const std::string original = official_i2s_model();
    std::vector<std::string> notes;
    const std::string there = quantize(original, "rt-" + name + ".gguf", to(tq), &notes);
    EXPECT_TRUE(notes.empty()) << notes.front();
    const std::string back = quantize(there, "rt-" + name + "-i2s.gguf", to(TensorType::I2_S), &notes);
    EXPECT_TRUE(notes.empty()) << notes.front();

    EXPECT_EQ(architecture_of(there), "bitnet");        // llama.cpp's layout for TQ files
    EXPECT_EQ(architecture_of(back), "bitnet-b1.58");   // the official one for I2_S
    expect_same_ternary_projections(original, there);
    expect_same_ternary_projections(original, back);
    // Back in I2_S the file is the original byte for byte (same keys, same tensors, same scales).
    EXPECT_EQ(bitnet_test::read_file(back), bitnet_test::read_file(original));

    const auto reference = float_logits(original);
    ASSERT_FALSE(reference.empty());
    const double via = worst_rel_rms(float_logits(there), reference);
    const double round_trip = worst_rel_rms(float_logits(back), reference);
    std::printf("[ i2_s -> %s: rel_rms %.3g; -> i2_s: %.3g ]\n", name.c_str(), via, round_trip);
    EXPECT_LE(via, 1e-6);
    EXPECT_LE(round_trip, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(BothTqTypes, TernaryRoundTrip, ::testing::Values(TensorType::TQ2_0, TensorType::TQ1_0),
                         [](const auto &info) { return std::string(bitnet::tensor_type_name(info.param)); });

// A scale that is not an f16 value cannot be a TQ block scale: the quantizer says so.
TEST(QuantizeCommand, ReportsWhatIsNotLossless) {
    bitnet_test::ModelSpec spec;
    spec.architecture = "bitnet";
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.projection_type = TensorType::F32;
    spec.ternary = false;  // float weights: ternarized by absmean, whose scale is no f16 value
    const std::string source = bitnet_test::write_temp("quantize-float.gguf", bitnet_test::build_model(spec));
    std::vector<std::string> notes;
    quantize(source, "float-to-tq2.gguf", to(TensorType::TQ2_0), &notes);
    ASSERT_FALSE(notes.empty());
    EXPECT_NE(notes.front().find("is not lossless"), std::string::npos) << notes.front();
}

TEST(QuantizeCommand, ReencodesTheEmbeddingAndKeepsTheModelRunnable) {
    const std::string original = official_i2s_model();
    bitnet::QuantizeOptions options = to(TensorType::I2_S);
    options.embedding_type = TensorType::Q8_0;
    const std::string out = quantize(original, "embd-q8.gguf", options);
    const std::vector<uint8_t> bytes = bitnet_test::read_file(out);
    const auto file = bitnet::gguf::File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(file.find_tensor("token_embd.weight")->type, TensorType::Q8_0);
    // The output computes what the reference computes on it.
    const auto reference = bitnet_reference::Model::load(out);
    const auto expected = bitnet_reference::forward(reference, tokens(), {false, false});
    const auto engine = float_logits(out);
    ASSERT_EQ(engine.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_LE(bitnet_test::relative_rms(engine[i], expected[i]), 1e-5);
}

// Errors carry a message and leave no output behind.
TEST(QuantizeCommand, RefusesBadRequests) {
    const std::string original = official_i2s_model();
    auto expect_error = [](const std::string &in, const std::string &out, const bitnet::QuantizeOptions &options,
                           const std::string &message) {
        try {
            bitnet::quantize_model(in, out, options);
            ADD_FAILURE() << "no error for " << out;
        } catch (const bitnet::Error &error) {
            EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
        }
        if (out != in) {
            EXPECT_TRUE(bitnet_test::read_file_if_exists(out).empty()) << out << " was written";
        }
    };
    const std::string dir = bitnet_test::temp_dir();
    const std::vector<uint8_t> before = bitnet_test::read_file(original);
    expect_error(original, original, to(TensorType::TQ2_0), "is the input file");
    EXPECT_EQ(bitnet_test::read_file(original), before) << "the input was changed";
    expect_error(dir + "/missing.gguf", dir + "/never.gguf", to(TensorType::TQ2_0), "missing.gguf");
    expect_error(original, dir + "/never.gguf", to(TensorType::Q4_0), "not a projection type");

    bitnet_test::ModelSpec spec;
    spec.architecture = "bitnet-b1.58";
    spec.n_embd = 256;
    spec.n_ff = 640;  // ffn_down rows of 640 do not fit TQ2_0's 256
    spec.projection_type = TensorType::I2_S;
    const std::string narrow = bitnet_test::write_temp("quantize-640.gguf", bitnet_test::build_model(spec));
    expect_error(narrow, dir + "/never.gguf", to(TensorType::TQ2_0), "'blk.0.ffn_down.weight' has rows of 640");

    // The command line: unknown type names are refused before anything is read.
    const std::string bitnet = std::string(BITNET_BINARY_DIR) + "/bin/bitnet";
    if (bitnet_test::read_file_if_exists(bitnet).empty()) GTEST_SKIP() << "skipped: bin/bitnet is not built";
    const std::string err = dir + "/quantize.err";
    EXPECT_EQ(bitnet_test::run_process({bitnet, "quantize", original, dir + "/never.gguf", "q3_x"}, {}, "", err), 2);
    const std::vector<uint8_t> text = bitnet_test::read_file(err);
    EXPECT_NE(std::string(text.begin(), text.end()).find("TYPE must be one of"), std::string::npos);
    EXPECT_EQ(bitnet_test::run_process({bitnet, "quantize", original, dir + "/cli.gguf", "tq1_0", "--embd-type", "iq4_nl"},
                                       {}, "", err),
              2);
    EXPECT_EQ(bitnet_test::run_process({bitnet, "quantize", original, dir + "/cli.gguf", "tq1_0"}, {}, "", err), 0);
    EXPECT_EQ(architecture_of(dir + "/cli.gguf"), "bitnet");
}

}  // namespace
