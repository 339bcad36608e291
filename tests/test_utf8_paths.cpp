// Paths are UTF-8 on every platform (lib/util/file_path.h). On Windows a narrow path would be read
// in the ANSI code page, so a model named in Chinese or with accents would not be found, or a file
// of a garbled name would be written; the engine converts to UTF-16 and uses the wide APIs there.
// This test runs in every build; it is the one that can fail on Windows (under Wine in CI).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bitnet.h"
#include "support/test_support.h"
#include "util/file_path.h"

namespace {

// "modèle-模型-ü.gguf" spelled in UTF-8 bytes, so that the source file's encoding cannot matter.
const std::string kName = "mod\xc3\xa8le-\xe6\xa8\xa1\xe5\x9e\x8b-\xc3\xbc.gguf";

// A path from UTF-8 bytes (std::filesystem::u8path is deprecated in C++20; char8_t strings are UTF-8).
std::filesystem::path fs_path(const std::string &utf8) {
    return std::filesystem::path(std::u8string(utf8.begin(), utf8.end()));
}

void write_utf8(const std::string &path, const std::vector<uint8_t> &bytes) {
    std::FILE *file = bitnet::open_file(path, "wb");
    ASSERT_NE(file, nullptr) << "cannot create " << path;
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), file), bytes.size());
    ASSERT_EQ(std::fclose(file), 0);
}

// The names in `dir` as UTF-8 (std::filesystem reads them with the platform's wide API on Windows).
std::vector<std::string> names_in(const std::string &dir) {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(fs_path(dir))) {
        const std::u8string name = entry.path().filename().u8string();
        names.emplace_back(name.begin(), name.end());
    }
    return names;
}

TEST(Utf8Paths, ModelLoadsFromANonAsciiPathMappedAndRead) {
    const std::string source = bitnet_test::synthetic_model("tiny", "i2_s");
    const std::vector<uint8_t> bytes = bitnet_test::read_file(source);
    const std::string dir = bitnet_test::temp_dir() + "/utf8-\xc3\xa9t\xc3\xa9";  // "utf8-été"
    std::filesystem::create_directories(fs_path(dir));
    const std::string path = dir + "/" + kName;
    write_utf8(path, bytes);
    // The file exists under exactly these code points, not under a code-page garbling of them.
    const std::vector<std::string> names = names_in(dir);
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0], kName);

    bitnet_model *reference = nullptr;
    ASSERT_EQ(bitnet_model_load_file(source.c_str(), nullptr, &reference), BITNET_OK) << bitnet_last_error();
    for (bool use_mmap : {true, false}) {
        SCOPED_TRACE(use_mmap ? "mapped" : "read into memory");
        bitnet_model_params params = bitnet_model_default_params();
        params.use_mmap = use_mmap;
        bitnet_model *model = nullptr;
        ASSERT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_OK) << bitnet_last_error();
        EXPECT_EQ(bitnet_model_n_vocab(model), bitnet_model_n_vocab(reference));
        bitnet_model_free(model);
    }
    bitnet_model_free(reference);
}

TEST(Utf8Paths, MissingNonAsciiFileNamesThePathInItsError) {
    const std::string path = bitnet_test::temp_dir() + "/absent-" + kName;
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(path.c_str(), nullptr, &model), BITNET_ERR_IO);
    EXPECT_EQ(model, nullptr);
    EXPECT_NE(std::string(bitnet_last_error()).find(kName), std::string::npos) << bitnet_last_error();
}

// The last step of every atomic write: Windows' rename() refuses an existing target, replace_file
// must not.
TEST(Utf8Paths, ReplaceFileRenamesOverAnExistingFile) {
    const std::string dir = bitnet_test::temp_dir();
    const std::string from = dir + "/new-" + kName, to = dir + "/old-" + kName;
    write_utf8(from, {1, 2, 3});
    write_utf8(to, {9});
    ASSERT_TRUE(bitnet::replace_file(from, to));
    EXPECT_FALSE(std::filesystem::exists(fs_path(from)));
    std::FILE *file = bitnet::open_file(to, "rb");
    ASSERT_NE(file, nullptr);
    unsigned char got[8];
    EXPECT_EQ(std::fread(got, 1, sizeof got, file), 3u);
    std::fclose(file);
    EXPECT_EQ(got[0], 1);
    EXPECT_EQ(got[2], 3);
    EXPECT_TRUE(bitnet::remove_file(to));
    EXPECT_FALSE(std::filesystem::exists(fs_path(to)));
}

}  // namespace
