// Opening any well-formed GGUF file for inspection (bitnet_model_params.metadata_only): tensor types
// and architectures the engine cannot run are listed, not refused, and bitnet_model_runnable()
// names what stops a real load; `bitnet inspect` shows the same through the CLI.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "support/engine_runner.h"
#include "support/model_builder.h"
#include "support/process.h"
#include "support/test_support.h"

namespace {

using bitnet::TensorType;

// Overwrite the type id stored in `tensor_name`'s info record (formats.md §1.3: name as u64 length
// and bytes, n_dims u32, dims u64 each, then the type u32).
void set_type_id(std::vector<uint8_t> &bytes, const std::string &tensor_name, uint32_t id) {
    bitnet::gguf::ParseOptions options;
    options.keep_unrunnable_types = true;  // an earlier call may have made a tensor unrunnable
    const bitnet::gguf::File file = bitnet::gguf::File::parse(bytes.data(), bytes.size(), options);
    const bitnet::gguf::TensorInfo *tensor = file.find_tensor(tensor_name);
    ASSERT_NE(tensor, nullptr) << tensor_name;
    const uint64_t at = tensor->info_offset + 8 + tensor->name.size() + 4 + 8 * tensor->n_dims;
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(id >> (8 * i));
}

bitnet_test::ModelSpec small_spec() {
    bitnet_test::ModelSpec spec;
    spec.architecture = "bitnet";
    spec.n_embd = 256;
    spec.n_ff = 640;
    spec.projection_type = TensorType::TQ2_0;
    spec.retype["blk.0.ffn_down.weight"] = TensorType::Q4_0;
    spec.retype["blk.1.ffn_down.weight"] = TensorType::Q4_0;
    return spec;
}

// A bitnet model with one tensor of an id no ggml defines (99) and one of a type ggml defines but
// this engine does not run (IQ2_XXS, 16), each over bytes of another type (the extent is what counts).
std::vector<uint8_t> unrunnable_image() {
    std::vector<uint8_t> bytes = bitnet_test::build_model(small_spec());
    set_type_id(bytes, "blk.1.ffn_down.weight", 99);
    set_type_id(bytes, "blk.0.attn_q.weight", 16);
    return bytes;
}

bitnet_model *open_metadata_only(const std::string &path) {
    bitnet_model_params params = bitnet_model_default_params();
    params.metadata_only = true;
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_OK) << bitnet_last_error();
    return model;
}

bitnet_tensor_info info_of(const bitnet_model *model, const std::string &name) {
    for (int64_t i = 0; i < bitnet_model_n_tensors(model); ++i) {
        bitnet_tensor_info info{};
        info.struct_size = sizeof info;
        EXPECT_EQ(bitnet_model_tensor_info(model, i, &info), BITNET_OK);
        if (name == info.name) return info;
    }
    ADD_FAILURE() << "no tensor " << name;
    return {};
}

TEST(MetadataOnly, ListsTensorsOfTypesTheEngineCannotRunAndSaysWhy) {
    const std::string path = bitnet_test::write_temp("inspect-unrunnable.gguf", unrunnable_image());
    // A real load refuses the file...
    bitnet_model *strict = nullptr;
    EXPECT_NE(bitnet_model_load_file(path.c_str(), nullptr, &strict), BITNET_OK);
    EXPECT_EQ(strict, nullptr);

    // ...a metadata-only open lists every tensor.
    bitnet_test::ModelPtr model(open_metadata_only(path));
    ASSERT_TRUE(model);
    EXPECT_STREQ(bitnet_model_architecture(model.get()), "bitnet");
    EXPECT_EQ(bitnet_model_n_embd(model.get()), 256);
    EXPECT_EQ(bitnet_model_n_tensors(model.get()), static_cast<int64_t>(2 + 2 * 11));

    const bitnet_tensor_info unknown = info_of(model.get(), "blk.1.ffn_down.weight");
    EXPECT_STREQ(unknown.type_name, "unknown");
    EXPECT_EQ(unknown.file_type_id, 99u);
    ASSERT_NE(unknown.unrunnable, nullptr);
    EXPECT_NE(std::string(unknown.unrunnable).find("unknown type id 99"), std::string::npos) << unknown.unrunnable;
    // Its extent: the Q4_0 bytes written there, up to the next tensor's aligned start at most.
    EXPECT_GE(unknown.n_bytes, 640u / 32 * 18 * 256);

    const bitnet_tensor_info iq2 = info_of(model.get(), "blk.0.attn_q.weight");
    EXPECT_STREQ(iq2.type_name, "iq2_xxs");
    EXPECT_EQ(iq2.file_type_id, 16u);
    ASSERT_NE(iq2.unrunnable, nullptr);
    EXPECT_NE(std::string(iq2.unrunnable).find("IQ2_XXS (id 16) is not supported"), std::string::npos);

    const bitnet_tensor_info fine = info_of(model.get(), "blk.0.ffn_down.weight");
    EXPECT_STREQ(fine.type_name, "q4_0");
    EXPECT_EQ(fine.file_type_id, 2u);
    EXPECT_EQ(fine.unrunnable, nullptr);

    // The verdict names the first tensor that stops a load, as the load's own error does.
    EXPECT_NE(bitnet_model_runnable(model.get()), BITNET_OK);
    EXPECT_NE(std::string(bitnet_last_error()).find("tensor 'blk.0.attn_q.weight'"), std::string::npos)
        << bitnet_last_error();

    // No context from a model without weights.
    bitnet_context *context = nullptr;
    EXPECT_NE(bitnet_context_new(model.get(), nullptr, &context), BITNET_OK);
    EXPECT_EQ(context, nullptr);
}

TEST(MetadataOnly, OpensAnUnknownArchitectureAndAFileMissingHyperparameters) {
    bitnet_test::ModelSpec spec = small_spec();
    spec.architecture = "gpt2";
    const std::string path = bitnet_test::write_temp("inspect-gpt2.gguf", bitnet_test::build_model(spec));
    bitnet_test::ModelPtr model(open_metadata_only(path));
    ASSERT_TRUE(model);
    EXPECT_STREQ(bitnet_model_architecture(model.get()), "gpt2");
    EXPECT_EQ(bitnet_model_runnable(model.get()), BITNET_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(bitnet_last_error()).find("architecture 'gpt2' is not supported"), std::string::npos)
        << bitnet_last_error();

    spec = small_spec();
    spec.omit_keys.insert("bitnet.block_count");
    const std::string missing = bitnet_test::write_temp("inspect-no-blocks.gguf", bitnet_test::build_model(spec));
    bitnet_test::ModelPtr partial(open_metadata_only(missing));
    ASSERT_TRUE(partial);
    EXPECT_EQ(bitnet_model_runnable(partial.get()), BITNET_ERR_INVALID_MODEL);
    EXPECT_NE(std::string(bitnet_last_error()).find("bitnet.block_count"), std::string::npos) << bitnet_last_error();
}

TEST(MetadataOnly, ARunnableFileIsSaidToBeRunnableAndAMalformedOneStillFails) {
    const std::vector<uint8_t> bytes = bitnet_test::build_model(small_spec());
    const std::string path = bitnet_test::write_temp("inspect-runnable.gguf", bytes);
    bitnet_test::ModelPtr model(open_metadata_only(path));
    ASSERT_TRUE(model);
    EXPECT_EQ(bitnet_model_runnable(model.get()), BITNET_OK) << bitnet_last_error();
    bitnet_test::ModelPtr loaded = bitnet_test::load_model(path);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(bitnet_model_runnable(loaded.get()), BITNET_OK);
    EXPECT_EQ(bitnet_model_runnable(nullptr), BITNET_ERR_INVALID_ARGUMENT);

    const std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2));
    const std::string cut = bitnet_test::write_temp("inspect-truncated.gguf", truncated);
    bitnet_model_params params = bitnet_model_default_params();
    params.metadata_only = true;
    bitnet_model *raw = nullptr;
    EXPECT_EQ(bitnet_model_load_file(cut.c_str(), &params, &raw), BITNET_ERR_INVALID_MODEL);
    EXPECT_EQ(raw, nullptr);
}

// A caller built against the first bitnet_tensor_info (through n_bytes) gets nothing written past it.
TEST(MetadataOnly, TensorInfoOfTheFirstVersionIsNotWrittenPastItsEnd) {
    const std::string path = bitnet_test::write_temp("inspect-unrunnable-v1.gguf", unrunnable_image());
    bitnet_test::ModelPtr model(open_metadata_only(path));
    ASSERT_TRUE(model);
    bitnet_tensor_info info;
    std::memset(&info, 0xAB, sizeof info);
    info.struct_size = offsetof(bitnet_tensor_info, n_bytes) + sizeof(uint64_t);
    ASSERT_EQ(bitnet_model_tensor_info(model.get(), 0, &info), BITNET_OK);
    EXPECT_EQ(info.file_type_id, 0xABABABABu);
}

std::string run_inspect(const std::vector<std::string> &arguments, int *status) {
    const std::string out = bitnet_test::temp_dir() + "/inspect.out";
    std::vector<std::string> argv = {std::string(BITNET_BINARY_DIR) + "/bin/bitnet", "inspect"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    *status = bitnet_test::run_process(argv, {}, out, "");
    const std::vector<uint8_t> bytes = bitnet_test::read_file_if_exists(out);
    return std::string(bytes.begin(), bytes.end());
}

TEST(InspectCommand, ShowsAFileTheEngineCannotRunAndWhy) {
    if (bitnet_test::read_file_if_exists(std::string(BITNET_BINARY_DIR) + "/bin/bitnet").empty()) {
        GTEST_SKIP() << "skipped: bin/bitnet is not built";
    }
    const std::string path = bitnet_test::write_temp("inspect-cli.gguf", unrunnable_image());
    int status = -1;
    const std::string text = run_inspect({path}, &status);
    EXPECT_EQ(status, 0) << text;
    EXPECT_NE(text.find("architecture: bitnet"), std::string::npos) << text;
    EXPECT_NE(text.find("unknown(99)!"), std::string::npos) << text;
    EXPECT_NE(text.find("iq2_xxs(16)!"), std::string::npos) << text;
    EXPECT_NE(text.find("runnable: no: gguf: tensor 'blk.0.attn_q.weight'"), std::string::npos) << text;

    const std::string json = run_inspect({"--json", path}, &status);
    EXPECT_EQ(status, 0) << json;
    EXPECT_NE(json.find("\"runnable\": false"), std::string::npos) << json;
    EXPECT_NE(json.find("\"type_id\": 99"), std::string::npos) << json;
    EXPECT_NE(json.find("\"unrunnable\": \"gguf: tensor 'blk.1.ffn_down.weight'"), std::string::npos) << json;

    const std::string runnable = bitnet_test::write_temp("inspect-cli-ok.gguf", bitnet_test::build_model(small_spec()));
    const std::string ok = run_inspect({runnable}, &status);
    EXPECT_EQ(status, 0) << ok;
    EXPECT_NE(ok.find("runnable: yes"), std::string::npos) << ok;
}

}  // namespace
