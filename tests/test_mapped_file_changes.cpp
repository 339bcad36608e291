// A model file changed on disk while a model maps it (use_mmap, the default): a shortened file is
// an error from bitnet_context_new() and bitnet_decode(), not SIGBUS; a file replaced by rename
// and a model read into memory keep working.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "bitnet.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

// A private copy of the tiny synthetic model, which the test may damage.
std::string copy_of_model(const std::string &name) {
    const std::string path = bitnet_test::temp_dir() + "/" + name;
    bitnet_test::write_file(path, bitnet_test::read_file(bitnet_test::synthetic_model("tiny", "i2_s")));
    return path;
}

bitnet_test::ModelPtr load(const std::string &path, bool use_mmap) {
    bitnet_model_params params = bitnet_model_default_params();
    params.use_mmap = use_mmap;
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_OK) << bitnet_last_error();
    return bitnet_test::ModelPtr(model);
}

bitnet_status decode_one(bitnet_context *context, int32_t pos) {
    bitnet_batch *batch = nullptr;
    EXPECT_EQ(bitnet_batch_new(1, &batch), BITNET_OK);
    const int32_t seq = 0;
    bitnet_batch_add(batch, 1, pos, &seq, 1, true);
    const bitnet_status status = bitnet_decode(context, batch);
    bitnet_batch_free(batch);
    return status;
}

TEST(MappedFileChanges, AShortenedFileIsAnErrorNotACrash) {
    const std::string path = copy_of_model("truncated.gguf");
    auto model = load(path, true);
    ASSERT_TRUE(model);
    auto context = bitnet_test::make_context(model.get(), bitnet_test::RunOptions{}, 8);
    ASSERT_TRUE(context);
    ASSERT_EQ(decode_one(context.get(), 0), BITNET_OK) << bitnet_last_error();

    const off_t size = static_cast<off_t>(bitnet_model_file_size(model.get()));
    ASSERT_EQ(truncate(path.c_str(), size / 2), 0);
    EXPECT_EQ(decode_one(context.get(), 1), BITNET_ERR_IO);
    EXPECT_NE(std::string(bitnet_last_error()).find("shrank from"), std::string::npos) << bitnet_last_error();
    EXPECT_NE(std::string(bitnet_last_error()).find("use_mmap = false"), std::string::npos) << bitnet_last_error();
    bitnet_context *another = nullptr;
    EXPECT_EQ(bitnet_context_new(model.get(), nullptr, &another), BITNET_ERR_IO);
    EXPECT_EQ(another, nullptr);

    // Restored to its full length (same bytes), the model computes again.
    bitnet_test::write_file(path, bitnet_test::read_file(bitnet_test::synthetic_model("tiny", "i2_s")));
    EXPECT_EQ(decode_one(context.get(), 1), BITNET_OK) << bitnet_last_error();
}

TEST(MappedFileChanges, AFileReplacedByRenameKeepsTheMappedModelWorking) {
    const std::string path = copy_of_model("renamed.gguf");
    auto model = load(path, true);
    ASSERT_TRUE(model);
    auto context = bitnet_test::make_context(model.get(), bitnet_test::RunOptions{}, 8);
    const std::string replacement = bitnet_test::temp_dir() + "/replacement.gguf";
    bitnet_test::write_file(replacement, {'G', 'G', 'U', 'F'});
    ASSERT_EQ(std::rename(replacement.c_str(), path.c_str()), 0);
    EXPECT_EQ(decode_one(context.get(), 0), BITNET_OK) << bitnet_last_error();
}

TEST(MappedFileChanges, AModelReadIntoMemoryDoesNotDependOnTheFile) {
    const std::string path = copy_of_model("in-memory.gguf");
    auto model = load(path, false);
    ASSERT_TRUE(model);
    auto context = bitnet_test::make_context(model.get(), bitnet_test::RunOptions{}, 8);
    ASSERT_EQ(truncate(path.c_str(), 0), 0);
    EXPECT_EQ(decode_one(context.get(), 0), BITNET_OK) << bitnet_last_error();
}

}  // namespace
