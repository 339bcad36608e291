// A build without zstd (cmake/zstd_xxhash.cmake: the Windows cross build, Debian has no MinGW zstd)
// cannot save or load state files, whose payload is a zstd frame: every state call must fail with
// BITNET_ERR_UNSUPPORTED and say "built without zstd", never crash or write a file.
// Built only where zstd is absent (tests/windows/CMakeLists.txt); test_memory_state covers the rest.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bitnet.h"
#include "support/test_support.h"

namespace {

bool says_built_without_zstd() {
    return std::string(bitnet_last_error()).find("built without zstd") != std::string::npos;
}

TEST(StateWithoutZstd, SaveAndLoadFailWithAClearMessage) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    bitnet_model *model = nullptr;
    ASSERT_EQ(bitnet_model_load_file(path.c_str(), nullptr, &model), BITNET_OK) << bitnet_last_error();
    bitnet_context *context = nullptr;
    ASSERT_EQ(bitnet_context_new(model, nullptr, &context), BITNET_OK) << bitnet_last_error();

    EXPECT_EQ(bitnet_state_size(context), 0u);
    EXPECT_TRUE(says_built_without_zstd()) << bitnet_last_error();

    std::vector<uint8_t> buffer(1 << 16);
    size_t written = 123;
    EXPECT_EQ(bitnet_state_save(context, buffer.data(), buffer.size(), &written), BITNET_ERR_UNSUPPORTED);
    EXPECT_TRUE(says_built_without_zstd()) << bitnet_last_error();

    const std::string state_path = bitnet_test::temp_dir() + "/context.state";
    EXPECT_EQ(bitnet_state_save_file(context, state_path.c_str()), BITNET_ERR_UNSUPPORTED);
    EXPECT_TRUE(says_built_without_zstd()) << bitnet_last_error();
    EXPECT_FALSE(std::filesystem::exists(state_path));
    EXPECT_FALSE(std::filesystem::exists(state_path + ".tmp"));

    bitnet_context_free(context);
    bitnet_model_free(model);
}

}  // namespace
