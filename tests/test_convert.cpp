// `bitnet convert` (tools/convert): each Hugging Face checkpoint kind of issue 13, written small by
// the test itself (tests/support/hf_checkpoint), is converted and the engine's logits on the result
// are compared with the double-precision reference run on the original weights.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <dirent.h>

#include <cstdio>
#include <random>

#include "bitnet.h"
#include "convert/converter.h"
#include "gguf/gguf.h"
#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/hf_checkpoint.h"
#include "support/official_layout.h"
#include "support/process.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace {

using bitnet::TensorType;
using bitnet_test::HfKind;

std::string new_folder(const std::string &name) {
    const std::string folder = bitnet_test::temp_dir() + "/" + name;
    ::mkdir(folder.c_str(), 0755);
    return folder;
}

void convert(const std::string &folder, const std::string &out, std::optional<TensorType> outtype = std::nullopt,
             TensorType embedding = TensorType::F16, bool vocab_only = false) {
    bitnet::convert::ConvertOptions options;
    options.input_folder = folder;
    options.output_path = out;
    options.outtype = outtype;
    options.embedding_type = embedding;
    options.vocab_only = vocab_only;
    bitnet::convert::convert_checkpoint(options);
}

std::vector<int> test_tokens(int n_vocab) {
    std::mt19937 random(5);
    std::uniform_int_distribution<int> pick(0, n_vocab - 1);
    std::vector<int> tokens(24);
    for (int &token : tokens) token = pick(random);
    return tokens;
}

// Worst rel_rms over the positions of the engine's logits on `path` against the reference.
double worst_rel_rms(const std::string &path, const std::vector<uint8_t> &reference_image, bool a8) {
    auto model = bitnet_test::load_model(path);
    if (!model) return 1e9;
    const auto reference = bitnet_reference::Model::from_image(reference_image.data(), reference_image.size());
    const std::vector<int> tokens = test_tokens(bitnet_model_n_vocab(model.get()));
    bitnet_test::RunOptions options;
    options.quantize_activations = a8;
    const auto engine = bitnet_test::engine_logits(model.get(), tokens, options);
    const auto expected = bitnet_reference::forward(reference, tokens, {a8, false});
    double worst = 0.0;
    for (size_t pos = 0; pos < tokens.size(); ++pos) worst = std::max(worst, bitnet_test::relative_rms(engine[pos], expected[pos]));
    return worst;
}

struct Parsed {
    bitnet::MappedFile mapping;
    bitnet::gguf::File file;
};
Parsed parse(const std::string &path) {
    bitnet::MappedFile mapping = bitnet::MappedFile::open(path);
    bitnet::gguf::File file = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    return {std::move(mapping), std::move(file)};
}

// ---------------------------------------------------------------------------------------------
// Every checkpoint kind against the reference

struct KindCase {
    const char *name;
    HfKind kind;
    const char *linear_class;
    int n_shards;
    bool tied;
    const char *architecture;  // written
};

class ConvertKind : public ::testing::TestWithParam<KindCase> {};

TEST_P(ConvertKind, LogitsMatchTheReferenceOnTheOriginalWeights) {
    const KindCase c = GetParam();
    bitnet_test::HfCheckpointOptions options;
    options.kind = c.kind;
    options.linear_class = c.linear_class;
    options.n_shards = c.n_shards;
    options.tied = c.tied;
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder(std::string("hf_") + c.name), options);
    const std::string out = checkpoint.folder + "/out.gguf";
    ASSERT_NO_THROW(convert(checkpoint.folder, out));

    {
        Parsed parsed = parse(out);
        EXPECT_EQ(parsed.file.architecture(), c.architecture);
        if (std::string(c.architecture) == "bitnet-b1.58") bitnet_test::expect_official_layout(parsed.file, options.shape.n_layer);
        const bool ternary = c.kind != HfKind::FloatLlama;
        EXPECT_EQ(parsed.file.find_tensor("blk.1.ffn_down.weight")->type, ternary ? TensorType::I2_S : TensorType::F16);
        EXPECT_EQ(parsed.file.find_tensor("output.weight") != nullptr, !c.tied);
    }
    const double float_error = worst_rel_rms(out, checkpoint.reference_image, false);
    std::printf("[ %s ] float activations: worst rel_rms %.3g (limit 1e-5)\n", c.name, float_error);
    EXPECT_LE(float_error, 1e-5);
    // Int8 activations: the same arithmetic on both sides up to float rounding, so the usual noise.
    const double a8_error = worst_rel_rms(out, checkpoint.reference_image, true);
    std::printf("[ %s ] int8 activations: worst rel_rms %.3g (limit 0.04)\n", c.name, a8_error);
    EXPECT_LE(a8_error, 0.04);
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, ConvertKind,
    ::testing::Values(KindCase{"bitnet_2b4t_packed_autobitlinear", HfKind::MicrosoftPacked, "autobitlinear", 1, true, "bitnet-b1.58"},
                      KindCase{"bitnet_2b4t_packed_bitlinear", HfKind::MicrosoftPacked, "bitlinear", 1, true, "bitnet-b1.58"},
                      KindCase{"bitnet_2b4t_bf16_sharded", HfKind::MicrosoftMaster, "autobitlinear", 3, true, "bitnet-b1.58"},
                      KindCase{"onebitllm_latent_silu_spm", HfKind::OneBitLlm, "", 1, false, "bitnet"},
                      KindCase{"llama3_1_58_packed", HfKind::TernaryLlama, "bitlinear", 1, false, "llama"},
                      // The HF1BitLLM / Falcon3-1.58bit config: no linear_class at all (the default divides).
                      KindCase{"llama3_1_58_packed_no_linear_class", HfKind::TernaryLlama, "", 1, false, "llama"},
                      KindCase{"float_llama", HfKind::FloatLlama, "", 2, false, "llama"}),
    [](const auto &info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// Output types

struct OuttypeCase {
    const char *name;
    TensorType type;
    uint32_t file_type;
};

class ConvertOuttype : public ::testing::TestWithParam<OuttypeCase> {};

TEST_P(ConvertOuttype, WritesTheTypeAskedForAndKeepsTheLogits) {
    const OuttypeCase c = GetParam();
    bitnet_test::HfCheckpointOptions options;
    options.shape.n_ff = 512;  // TQ1_0/TQ2_0 blocks are 256 wide
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder(std::string("hf_outtype_") + c.name), options);
    const std::string out = checkpoint.folder + "/out.gguf";
    ASSERT_NO_THROW(convert(checkpoint.folder, out, c.type));
    {
        Parsed parsed = parse(out);
        EXPECT_EQ(parsed.file.get_uint("general.file_type"), c.file_type);
        for (const auto &tensor : parsed.file.tensors()) {
            if (tensor.name.find("attn_") != std::string::npos && tensor.name.find("norm") == std::string::npos) {
                EXPECT_EQ(tensor.type, c.type) << tensor.name;
            }
        }
    }
    // The ternary values times f16-exact scales are representable in every type asked for.
    const double error = worst_rel_rms(out, checkpoint.reference_image, false);
    std::printf("[ %s ] float activations: worst rel_rms %.3g\n", c.name, error);
    EXPECT_LE(error, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(EveryType, ConvertOuttype,
                         ::testing::Values(OuttypeCase{"tq2_0", TensorType::TQ2_0, 37}, OuttypeCase{"tq1_0", TensorType::TQ1_0, 36},
                                           OuttypeCase{"f16", TensorType::F16, 1}, OuttypeCase{"bf16", TensorType::BF16, 32},
                                           OuttypeCase{"f32", TensorType::F32, 0}),
                         [](const auto &info) { return std::string(info.param.name); });

TEST(Convert, EmbeddingTypeIsTheOneAskedFor) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_embd_q8"), {});
    const std::string out = checkpoint.folder + "/out.gguf";
    ASSERT_NO_THROW(convert(checkpoint.folder, out, std::nullopt, TensorType::Q8_0));
    {
        Parsed parsed = parse(out);
        EXPECT_EQ(parsed.file.find_tensor("token_embd.weight")->type, TensorType::Q8_0);
    }
    const double error = worst_rel_rms(out, checkpoint.reference_image, false);
    std::printf("[ q8_0 embedding ] float activations: worst rel_rms %.3g (limit 0.02)\n", error);
    EXPECT_LE(error, 0.02);  // Q8_0 rounds the embedding (and tied lm_head) to ~1/254 of each block's max
}

TEST(Convert, VocabOnlyWritesNoTensors) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_vocab_only"), {});
    const std::string out = checkpoint.folder + "/vocab.gguf";
    ASSERT_NO_THROW(convert(checkpoint.folder, out, std::nullopt, TensorType::F16, true));
    Parsed parsed = parse(out);
    EXPECT_TRUE(parsed.file.tensors().empty());
    EXPECT_EQ(parsed.file.get_string_array("tokenizer.ggml.tokens")->size(), 259u);
    EXPECT_EQ(parsed.file.get_uint("tokenizer.ggml.bos_token_id"), 256u);
    EXPECT_TRUE(parsed.file.get_string("tokenizer.chat_template").has_value());
}

// ---------------------------------------------------------------------------------------------
// Errors: a message naming the file and what was wrong, and nothing at the output path.

bool folder_has_partial_files(const std::string &folder) {
    DIR *dir = ::opendir(folder.c_str());
    bool found = false;
    while (dirent *entry = dir ? ::readdir(dir) : nullptr) {
        if (std::string(entry->d_name).find(".partial-") != std::string::npos) found = true;
    }
    if (dir) ::closedir(dir);
    return found;
}

void expect_failure(const std::string &folder, const std::string &needle, std::optional<TensorType> outtype = std::nullopt) {
    const std::string out = folder + "/out.gguf";
    bitnet_test::write_file(out, {'o', 'l', 'd'});
    try {
        convert(folder, out, outtype);
        ADD_FAILURE() << "conversion of " << folder << " succeeded; expected an error containing '" << needle << "'";
    } catch (const bitnet::Error &error) {
        EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << "message: " << error.what();
    }
    EXPECT_EQ(bitnet_test::read_file(out), (std::vector<uint8_t>{'o', 'l', 'd'})) << "the old output was touched";
    EXPECT_FALSE(folder_has_partial_files(folder));
}

void replace_in_file(const std::string &path, const std::string &from, const std::string &to) {
    std::vector<uint8_t> bytes = bitnet_test::read_file(path);
    std::string text(bytes.begin(), bytes.end());
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    bitnet_test::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

TEST(ConvertErrors, UnknownArchitectureIsNamed) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_arch"), {});
    replace_in_file(checkpoint.folder + "/config.json", "BitNetForCausalLM", "MambaForCausalLM");
    expect_failure(checkpoint.folder, "config.json: architecture 'MambaForCausalLM' is not supported");
}

TEST(ConvertErrors, MissingConfigKeyIsNamed) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_key"), {});
    replace_in_file(checkpoint.folder + "/config.json", "\"intermediate_size\"", "\"intermediate_size_\"");
    expect_failure(checkpoint.folder, "field 'intermediate_size' is missing");
}

TEST(ConvertErrors, UnsupportedQuantizationIsNamed) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_quant"), {});
    replace_in_file(checkpoint.folder + "/config.json", "\"quant_method\":\"bitnet\"", "\"quant_method\":\"gptq\"");
    expect_failure(checkpoint.folder, "quantization_config.quant_method is \"gptq\"");
}

TEST(ConvertErrors, TruncatedConfigIsNotJson) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_json"), {});
    std::vector<uint8_t> config = bitnet_test::read_file(checkpoint.folder + "/config.json");
    config.resize(config.size() / 2);
    bitnet_test::write_file(checkpoint.folder + "/config.json", config);
    expect_failure(checkpoint.folder, "config.json: not valid JSON at byte");
}

TEST(ConvertErrors, WrongShapeAndDtypeAreNamed) {
    bitnet_test::HfCheckpointOptions options;
    options.shape.n_ff = 512;  // the weights say 512, the config will say 384
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_shape"), options);
    replace_in_file(checkpoint.folder + "/config.json", "\"intermediate_size\":512", "\"intermediate_size\":384");
    expect_failure(checkpoint.folder, "tensor 'model.layers.0.mlp.gate_proj.weight' (U8 [128, 256]): expected packed shape [96, 256]");

    bitnet_test::HfCheckpointOptions master_options;
    master_options.kind = HfKind::MicrosoftMaster;
    const auto master = bitnet_test::write_hf_checkpoint(new_folder("hf_err_dtype"), master_options);
    replace_in_file(master.folder + "/model.safetensors", "\"model.norm.weight\":{\"dtype\":\"BF16\"", "\"model.norm.weight\":{\"dtype\":\"I16\" ");
    expect_failure(master.folder, "tensor 'model.norm.weight' (I16 [256]): expected a float dtype");
}

TEST(ConvertErrors, MissingTensorIsNamed) {
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_missing"), {});
    replace_in_file(checkpoint.folder + "/model.safetensors", "model.layers.1.mlp.down_proj.weight_scale", "model.layers.1.mlp.down_proj.weight_scalX");
    expect_failure(checkpoint.folder, "tensor 'model.layers.1.mlp.down_proj.weight_scale' is missing");
}

TEST(ConvertErrors, TensorsWithoutAPlaceAreNotDropped) {
    bitnet_test::HfCheckpointOptions options;
    options.kind = HfKind::FloatLlama;
    options.extra_tensors.push_back({"model.layers.0.self_attn.q_proj.bias", "BF16", {256}, std::vector<uint8_t>(512, 0)});
    options.extra_tensors.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", {32}, std::vector<uint8_t>(128, 0)});
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_bias"), options);
    expect_failure(checkpoint.folder, "tensor 'model.layers.0.self_attn.q_proj.bias' has no place in a LlamaForCausalLM (float) model");
}

TEST(ConvertErrors, ATensorInTwoShardsIsAmbiguous) {
    bitnet_test::HfCheckpointOptions options;
    options.n_shards = 2;
    // Tensor i goes to shard i % 2: model.norm.weight (i = 1) to the second; the copy appended after
    // the 38 tensors of this shape (i = 38) to the first.
    options.extra_tensors.push_back({"model.norm.weight", "BF16", {256}, std::vector<uint8_t>(512, 0)});
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_shards"), options);
    expect_failure(checkpoint.folder, "tensor 'model.norm.weight' is in both");
}

TEST(ConvertErrors, TernaryOuttypeForAFloatModelIsRefused) {
    bitnet_test::HfCheckpointOptions options;
    options.kind = HfKind::FloatLlama;
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_outtype"), options);
    expect_failure(checkpoint.folder, "--outtype i2_s needs a BitNet checkpoint", TensorType::I2_S);
}

TEST(ConvertErrors, BlockSizeTheOuttypeCannotHoldIsRefused) {
    bitnet_test::HfCheckpointOptions options;
    options.shape.n_ff = 320;  // not a multiple of 256 (TQ2_0) but of 4 and 64
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_err_block"), options);
    expect_failure(checkpoint.folder, "tq2_0 cannot store 'blk.0.ffn_down.weight'", TensorType::TQ2_0);
}

// ---------------------------------------------------------------------------------------------
// The command line

std::string read_text(const std::string &path) {
    const std::vector<uint8_t> bytes = bitnet_test::read_file_if_exists(path);
    return std::string(bytes.begin(), bytes.end());
}

TEST(ConvertCommand, ConvertsQuietlyWhenNotATerminalAndReportsErrors) {
    const std::string bitnet = std::string(BITNET_BINARY_DIR) + "/bin/bitnet";
    bitnet_test::HfCheckpointOptions options;
    options.shape.n_ff = 512;  // TQ1_0 blocks are 256 wide
    const auto checkpoint = bitnet_test::write_hf_checkpoint(new_folder("hf_cli"), options);
    const std::string out = checkpoint.folder + "/cli.gguf", err = checkpoint.folder + "/stderr.txt";

    EXPECT_EQ(bitnet_test::run_process({bitnet, "convert"}, {}, "", err), 2);
    EXPECT_NE(read_text(err).find("usage: bitnet convert HF_DIR -o OUT.gguf"), std::string::npos);
    EXPECT_EQ(bitnet_test::run_process({bitnet, "convert", checkpoint.folder, "-o", out, "--outtype", "q4_0"}, {}, "", err), 2);
    EXPECT_NE(read_text(err).find("--outtype must be i2_s, tq2_0, tq1_0, bf16, f16 or f32 (got 'q4_0')"), std::string::npos);

    ASSERT_EQ(bitnet_test::run_process({bitnet, "convert", checkpoint.folder, "-o", out, "--outtype", "tq1_0",
                                        "--embd-type", "q6_k"}, {}, "", err), 0) << read_text(err);
    const std::string log = read_text(err);
    EXPECT_NE(log.find("bitnet convert: wrote " + out), std::string::npos) << log;
    EXPECT_EQ(log.find('\r'), std::string::npos) << "a progress bar was drawn into a file: " << log;
    EXPECT_EQ(bitnet_test::run_process({bitnet, "inspect", out}, {}, "", err), 0) << read_text(err);
    {
        Parsed parsed = parse(out);
        EXPECT_EQ(parsed.file.find_tensor("blk.0.ffn_up.weight")->type, TensorType::TQ1_0);
        EXPECT_EQ(parsed.file.find_tensor("token_embd.weight")->type, TensorType::Q6_K);
    }

    replace_in_file(checkpoint.folder + "/config.json", "\"rms_norm_eps\"", "\"rms_norm_epz\"");
    const std::string failed = checkpoint.folder + "/failed.gguf";
    EXPECT_EQ(bitnet_test::run_process({bitnet, "convert", checkpoint.folder, "-o", failed}, {}, "", err), 1);
    EXPECT_NE(read_text(err).find("config.json: field 'rms_norm_eps' is missing"), std::string::npos) << read_text(err);
    EXPECT_TRUE(bitnet_test::read_file_if_exists(failed).empty()) << "a failed conversion left " << failed;
}

}  // namespace
