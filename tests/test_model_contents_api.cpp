// The model-contents functions of bitnet.h (tensor table, metadata by index), checked against an
// independent reading of the same file by the GGUF reader and against the official 2B-4T layout
// that the synthetic tool writes (formats.md §2.9). The functions under test are called through
// bitnet.h only; the GGUF reader is the oracle.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "support/test_support.h"

namespace {

struct ModelHandle {
    bitnet_model *model = nullptr;
    ~ModelHandle() { bitnet_model_free(model); }
};

void load(const std::string &path, bool vocab_only, ModelHandle *handle) {
    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = vocab_only;
    ASSERT_EQ(bitnet_model_load_file(path.c_str(), &params, &handle->model), BITNET_OK) << bitnet_last_error();
}

bitnet_tensor_info empty_info() {
    bitnet_tensor_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    return info;
}

// Every entry of the API's table equals the reader's entry at the same index, and the data offset
// points at the tensor's bytes in the file.
void expect_table_matches_reader(const bitnet_model *model, const std::vector<uint8_t> &image) {
    bitnet::gguf::File file = bitnet::gguf::File::parse(image.data(), image.size());
    ASSERT_EQ(bitnet_model_n_tensors(model), static_cast<int64_t>(file.tensors().size()));
    for (size_t i = 0; i < file.tensors().size(); ++i) {
        const bitnet::gguf::TensorInfo &expected = file.tensors()[i];
        bitnet_tensor_info info = empty_info();
        ASSERT_EQ(bitnet_model_tensor_info(model, static_cast<int64_t>(i), &info), BITNET_OK) << bitnet_last_error();
        EXPECT_EQ(info.struct_size, sizeof info);
        EXPECT_STREQ(info.name, expected.name.c_str());
        EXPECT_STREQ(info.type_name, bitnet::tensor_type_name(expected.type));
        ASSERT_EQ(info.n_dims, static_cast<int32_t>(expected.n_dims)) << expected.name;
        for (int d = 0; d < 4; ++d) EXPECT_EQ(info.dims[d], static_cast<int64_t>(expected.dims[d])) << expected.name;
        EXPECT_EQ(info.n_bytes, expected.n_bytes) << expected.name;
        ASSERT_LE(info.data_offset + info.n_bytes, image.size()) << expected.name;
        EXPECT_EQ(image.data() + info.data_offset, expected.data) << expected.name;
    }
}

TEST(ModelContentsApi, TensorTableMatchesTheGgufReader) {
    std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    ModelHandle handle;
    load(path, false, &handle);
    expect_table_matches_reader(handle.model, bitnet_test::read_file(path));
}

TEST(ModelContentsApi, TensorTableMatchesTheReaderForOtherFormats) {
    for (const char *format : {"tq2_0", "tq1_0", "f16"}) {
        std::string path = bitnet_test::synthetic_model("tiny", format);
        ModelHandle handle;
        load(path, false, &handle);
        SCOPED_TRACE(format);
        expect_table_matches_reader(handle.model, bitnet_test::read_file(path));
    }
}

// The names, types and shapes the official 2B-4T file has, derived from the hyperparameters only.
TEST(ModelContentsApi, TensorTableHasTheOfficialLayout) {
    ModelHandle handle;
    load(bitnet_test::synthetic_model("tiny", "i2_s"), false, &handle);
    const bitnet_model *model = handle.model;
    const int64_t n_layer = bitnet_model_n_layer(model), n_embd = bitnet_model_n_embd(model);
    const int64_t n_ff = bitnet_model_n_ff(model), n_vocab = bitnet_model_n_vocab(model);
    const int64_t head_dim = n_embd / bitnet_model_n_head(model);
    const int64_t n_embd_kv = head_dim * bitnet_model_n_head_kv(model);
    ASSERT_EQ(bitnet_model_n_tensors(model), 2 + 11 * n_layer);

    struct Expected {
        std::string type;
        std::vector<int64_t> shape;
    };
    std::vector<std::pair<std::string, Expected>> expected = {
        {"token_embd.weight", {"f16", {n_embd, n_vocab}}},
        {"output_norm.weight", {"f32", {n_embd}}},
    };
    for (int64_t layer = 0; layer < n_layer; ++layer) {
        std::string p = "blk." + std::to_string(layer) + ".";
        expected.push_back({p + "attn_q.weight", {"i2_s", {n_embd, n_embd}}});
        expected.push_back({p + "attn_k.weight", {"i2_s", {n_embd, n_embd_kv}}});
        expected.push_back({p + "attn_v.weight", {"i2_s", {n_embd, n_embd_kv}}});
        expected.push_back({p + "attn_output.weight", {"i2_s", {n_embd, n_embd}}});
        expected.push_back({p + "ffn_gate.weight", {"i2_s", {n_embd, n_ff}}});
        expected.push_back({p + "ffn_up.weight", {"i2_s", {n_embd, n_ff}}});
        expected.push_back({p + "ffn_down.weight", {"i2_s", {n_ff, n_embd}}});
        for (const char *norm : {"attn_norm", "attn_sub_norm", "ffn_norm"}) {
            expected.push_back({p + norm + ".weight", {"f32", {n_embd}}});
        }
        expected.push_back({p + "ffn_sub_norm.weight", {"f32", {n_ff}}});
    }
    for (const auto &[name, want] : expected) {
        bool found = false;
        for (int64_t i = 0; i < bitnet_model_n_tensors(model) && !found; ++i) {
            bitnet_tensor_info info = empty_info();
            ASSERT_EQ(bitnet_model_tensor_info(model, i, &info), BITNET_OK);
            if (name != info.name) continue;
            found = true;
            EXPECT_EQ(info.type_name, want.type) << name;
            ASSERT_EQ(info.n_dims, static_cast<int32_t>(want.shape.size())) << name;
            for (size_t d = 0; d < want.shape.size(); ++d) EXPECT_EQ(info.dims[d], want.shape[d]) << name << " dim " << d;
            for (size_t d = want.shape.size(); d < 4; ++d) EXPECT_EQ(info.dims[d], 1) << name << " unused dim " << d;
        }
        EXPECT_TRUE(found) << name << " is not in the tensor table";
    }
}

TEST(ModelContentsApi, VocabOnlyModelsListTheFilesTensors) {
    std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    ModelHandle handle;
    load(path, true, &handle);
    expect_table_matches_reader(handle.model, bitnet_test::read_file(path));
}

TEST(ModelContentsApi, MemoryImageOffsetsCountFromTheImageStart) {
    std::vector<uint8_t> image = bitnet_test::read_file(bitnet_test::synthetic_model("tiny", "i2_s"));
    std::vector<uint64_t> aligned((image.size() + 7) / 8);  // load_memory wants 8-byte alignment
    std::memcpy(aligned.data(), image.data(), image.size());
    ModelHandle handle;
    ASSERT_EQ(bitnet_model_load_memory(aligned.data(), image.size(), nullptr, &handle.model), BITNET_OK)
        << bitnet_last_error();
    expect_table_matches_reader(handle.model, image);
}

// A caller built against a later header passes a larger struct: the fields this library does not
// know stay as the caller left them.
TEST(ModelContentsApi, LargerCallerStructKeepsTheFieldsTheLibraryDoesNotKnow) {
    ModelHandle handle;
    load(bitnet_test::synthetic_model("tiny", "i2_s"), false, &handle);
    struct LaterTensorInfo {
        bitnet_tensor_info known;
        uint64_t appended_field;
    } later;
    std::memset(&later, 0, sizeof later);
    later.known.struct_size = sizeof later;
    later.appended_field = 0x5eed;
    ASSERT_EQ(bitnet_model_tensor_info(handle.model, 0, &later.known), BITNET_OK) << bitnet_last_error();
    EXPECT_EQ(later.appended_field, 0x5eedu);
    EXPECT_EQ(later.known.struct_size, sizeof later);
    EXPECT_NE(later.known.name, nullptr);
}

void expect_refused(bitnet_status status, const char *message_part) {
    EXPECT_EQ(status, BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find(message_part), std::string::npos)
        << "message '" << bitnet_last_error() << "' does not mention '" << message_part << "'";
}

TEST(ModelContentsApi, TensorInfoErrorsNameTheProblemAndLeaveOutUnchanged) {
    ModelHandle handle;
    load(bitnet_test::synthetic_model("tiny", "i2_s"), false, &handle);
    const int64_t n_tensors = bitnet_model_n_tensors(handle.model);

    bitnet_tensor_info info = empty_info();
    info.name = "untouched";
    bitnet_tensor_info before;
    std::memcpy(&before, &info, sizeof info);  // a byte copy, padding included, for memcmp below
    auto expect_unchanged = [&] { EXPECT_EQ(std::memcmp(&info, &before, sizeof info), 0); };

    expect_refused(bitnet_model_tensor_info(nullptr, 0, &info), "model is NULL");
    expect_unchanged();
    expect_refused(bitnet_model_tensor_info(handle.model, 0, nullptr), "out is NULL");
    expect_refused(bitnet_model_tensor_info(handle.model, -1, &info), "index -1 is out of range");
    expect_unchanged();
    expect_refused(bitnet_model_tensor_info(handle.model, n_tensors, &info),
                   ("index " + std::to_string(n_tensors) + " is out of range").c_str());
    expect_unchanged();
    expect_refused(bitnet_model_tensor_info(handle.model, INT64_MAX, &info), "out of range");
    expect_unchanged();

    bitnet_tensor_info short_info = empty_info();
    short_info.struct_size = offsetof(bitnet_tensor_info, n_bytes);  // one field short of the first version
    bitnet_tensor_info short_before;
    std::memcpy(&short_before, &short_info, sizeof short_info);
    expect_refused(bitnet_model_tensor_info(handle.model, 0, &short_info), "struct_size");
    EXPECT_EQ(std::memcmp(&short_info, &short_before, sizeof short_info), 0);
    short_info.struct_size = 0;
    expect_refused(bitnet_model_tensor_info(handle.model, 0, &short_info), "struct_size");
}

TEST(ModelContentsApi, MetadataValueByIndexAbbreviatesArrays) {
    ModelHandle handle;
    load(bitnet_test::synthetic_model("tiny", "i2_s"), false, &handle);
    const bitnet_model *model = handle.model;
    const int64_t n_keys = bitnet_model_meta_count(model);
    ASSERT_GT(n_keys, 0);
    char by_index[4096], by_key[4096];
    for (int64_t i = 0; i < n_keys; ++i) {
        const char *key = bitnet_model_meta_key(model, i);
        // bitnet_model_meta_value shows 16 array elements: the same limit gives the same text.
        int64_t length = bitnet_model_meta_value_by_index(model, i, 16, by_index, sizeof by_index);
        ASSERT_EQ(length, bitnet_model_meta_value(model, key, by_key, sizeof by_key)) << key;
        EXPECT_STREQ(by_index, by_key) << key;
        // Asking with no buffer gives the length alone.
        EXPECT_EQ(bitnet_model_meta_value_by_index(model, i, 16, nullptr, 0), length) << key;
    }
    int64_t tokens = -1;
    for (int64_t i = 0; i < n_keys; ++i) {
        if (!std::strcmp(bitnet_model_meta_key(model, i), "tokenizer.ggml.tokens")) tokens = i;
    }
    ASSERT_GE(tokens, 0);
    const std::string total = "... (" + std::to_string(bitnet_model_n_vocab(model)) + " total)]";
    ASSERT_GT(bitnet_model_meta_value_by_index(model, tokens, 2, by_index, sizeof by_index), 0);
    const std::string two = by_index;
    ASSERT_GT(bitnet_model_meta_value_by_index(model, tokens, 8, by_index, sizeof by_index), 0);
    const std::string eight = by_index;
    EXPECT_LT(two.size(), eight.size());
    EXPECT_EQ(two.substr(two.size() - total.size()), total) << two;
    EXPECT_EQ(eight.substr(eight.size() - total.size()), total) << eight;
    ASSERT_GT(bitnet_model_meta_value_by_index(model, tokens, 0, by_index, sizeof by_index), 0);
    EXPECT_EQ(std::string(by_index), "[" + total) << by_index;
    // A short buffer holds the start of the text, NUL-terminated; the result is the full length.
    char small[5];
    int64_t full = bitnet_model_meta_value_by_index(model, tokens, 8, small, sizeof small);
    EXPECT_GT(full, 4);
    EXPECT_EQ(std::strlen(small), 4u);
}

TEST(ModelContentsApi, MetadataValueByIndexErrorsNameTheProblem) {
    ModelHandle handle;
    load(bitnet_test::synthetic_model("tiny", "i2_s"), false, &handle);
    const int64_t n_keys = bitnet_model_meta_count(handle.model);
    char buf[64];
    EXPECT_EQ(bitnet_model_meta_value_by_index(nullptr, 0, 8, buf, sizeof buf), -1);
    EXPECT_NE(std::string(bitnet_last_error()).find("model is NULL"), std::string::npos) << bitnet_last_error();
    EXPECT_EQ(bitnet_model_meta_value_by_index(handle.model, n_keys, 8, buf, sizeof buf), -1);
    EXPECT_NE(std::string(bitnet_last_error()).find("index " + std::to_string(n_keys) + " is out of range"),
              std::string::npos)
        << bitnet_last_error();
    EXPECT_EQ(bitnet_model_meta_value_by_index(handle.model, -1, 8, buf, sizeof buf), -1);
    EXPECT_NE(std::string(bitnet_last_error()).find("out of range"), std::string::npos) << bitnet_last_error();
    EXPECT_EQ(bitnet_model_meta_value_by_index(handle.model, 0, -1, buf, sizeof buf), -1);
    EXPECT_NE(std::string(bitnet_last_error()).find("max_array_elements is negative"), std::string::npos)
        << bitnet_last_error();
    EXPECT_EQ(bitnet_model_meta_value_by_index(handle.model, 0, 8, nullptr, 8), -1);
    EXPECT_NE(std::string(bitnet_last_error()).find("buf is NULL"), std::string::npos) << bitnet_last_error();
}

}  // namespace
