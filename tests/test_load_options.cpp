// Where a model's bytes live (bitnet_model_params.use_mmap) and the BITNET_PROFILE op timing:
// both change how the engine runs, never what it computes.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "bitnet.h"
#include "model/model.h"
#include "support/engine_runner.h"
#include "support/model_builder.h"
#include "support/test_support.h"

namespace {

bitnet_status load(const std::string &path, bool use_mmap, bitnet_model **out, size_t struct_size = 0) {
    bitnet_model_params params = bitnet_model_default_params();
    params.use_mmap = use_mmap;
    if (struct_size) params.struct_size = struct_size;
    return bitnet_model_load_file(path.c_str(), &params, out);
}

// The line of /proc/self/maps whose range holds `address` ("" when none does).
std::string mapping_of(const void *address) {
    std::ifstream maps("/proc/self/maps");
    const auto at = reinterpret_cast<uintptr_t>(address);
    for (std::string line; std::getline(maps, line);) {
        unsigned long long first = 0, last = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx", &first, &last) == 2 && at >= first && at < last) return line;
    }
    return "";
}

TEST(UseMmap, ReadIntoMemoryComputesWhatTheMappingComputes) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    bitnet_model *mapped_raw = nullptr, *read_raw = nullptr;
    ASSERT_EQ(load(path, true, &mapped_raw), BITNET_OK) << bitnet_last_error();
    ASSERT_EQ(load(path, false, &read_raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ModelPtr mapped(mapped_raw), read(read_raw);
    EXPECT_EQ(bitnet_model_file_size(read.get()), bitnet_model_file_size(mapped.get()));

    // The mapping names the file; the copy is private anonymous memory, read-only once loaded.
    const std::string mapped_region = mapping_of(mapped->mapping.data());
    const std::string read_region = mapping_of(read->mapping.data());
    EXPECT_NE(mapped_region.find(path), std::string::npos) << mapped_region;
    EXPECT_EQ(read_region.find(path), std::string::npos) << read_region;
    EXPECT_NE(read_region.find(" r--p "), std::string::npos) << read_region;

    const std::vector<int> tokens = {1, 5, 9, 2, 7};
    bitnet_test::RunOptions options;
    const auto want = bitnet_test::engine_logits(mapped.get(), tokens, options);
    const auto got = bitnet_test::engine_logits(read.get(), tokens, options);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "position " << i;
}

TEST(UseMmap, OlderParamsWithoutTheFieldKeepTheMapping) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    bitnet_model *raw = nullptr;
    // A caller compiled before use_mmap existed: its struct ends at vocab_only, and whatever the
    // memory after it holds is not read.
    ASSERT_EQ(load(path, false, &raw, offsetof(bitnet_model_params, vocab_only) + sizeof(bool)), BITNET_OK)
        << bitnet_last_error();
    bitnet_test::ModelPtr model(raw);
    EXPECT_NE(mapping_of(model->mapping.data()).find(path), std::string::npos);
}

TEST(UseMmap, ReadingFailuresNameTheFile) {
    bitnet_model *model = nullptr;
    EXPECT_EQ(load("/nonexistent/model.gguf", false, &model), BITNET_ERR_IO);
    EXPECT_NE(std::string(bitnet_last_error()).find("/nonexistent/model.gguf"), std::string::npos);

    const std::string empty = bitnet_test::write_temp("empty-for-read.gguf", {});
    EXPECT_EQ(load(empty, false, &model), BITNET_ERR_INVALID_MODEL);
    EXPECT_NE(std::string(bitnet_last_error()).find("empty"), std::string::npos) << bitnet_last_error();

    const std::string folder = empty.substr(0, empty.rfind('/'));
    EXPECT_EQ(load(folder, false, &model), BITNET_ERR_IO);
    EXPECT_NE(std::string(bitnet_last_error()).find("not a regular file"), std::string::npos) << bitnet_last_error();

    // A truncated file is read whole and then refused by the GGUF reader, as when mapped.
    std::vector<uint8_t> bytes = bitnet_test::read_file(bitnet_test::synthetic_model("tiny", "i2_s"));
    bytes.resize(bytes.size() / 2);
    EXPECT_EQ(load(bitnet_test::write_temp("half-for-read.gguf", bytes), false, &model), BITNET_ERR_INVALID_MODEL);
    EXPECT_EQ(model, nullptr);
}

// Collects info-level log lines while alive (the log callback is process-wide).
class InfoCapture {
public:
    InfoCapture() { bitnet_set_log_callback(&InfoCapture::collect, BITNET_LOG_INFO, this); }
    ~InfoCapture() { bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr); }
    std::string text() {
        std::lock_guard<std::mutex> lock(mutex_);
        return text_;
    }

private:
    static void collect(bitnet_log_level, const char *message, void *user) {
        auto *self = static_cast<InfoCapture *>(user);
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->text_ += message;
        self->text_ += '\n';
    }
    std::mutex mutex_;
    std::string text_;
};

TEST(OpProfile, TimesEveryOpWithoutChangingTheLogits) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    bitnet_test::ModelPtr model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    const std::vector<int> tokens = {3, 1, 4, 1, 5};
    bitnet_test::RunOptions options;
    options.one_batch = false;  // one decode per token
    const auto want = bitnet_test::engine_logits(model.get(), tokens, options);

    std::string report;
    std::vector<std::vector<float>> got;
    {
        InfoCapture capture;
        setenv("BITNET_PROFILE", "1", 1);
        got = bitnet_test::engine_logits(model.get(), tokens, options);  // its context is freed inside
        unsetenv("BITNET_PROFILE");
        report = capture.text();
    }
    std::printf("%s", report.c_str());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "position " << i;

    // Five decodes of one token; per layer 7 ternary projections, 1 attention, 2 adds.
    const int32_t n_layer = bitnet_model_n_layer(model.get());
    EXPECT_NE(report.find("profile: 5 decodes, 5 tokens"), std::string::npos) << report;
    auto calls_of = [&](const std::string &op) -> long {
        const size_t at = report.find("  " + op + " ");
        if (at == std::string::npos) return -1;
        std::istringstream line(report.substr(at + op.size() + 2));
        double ms = 0;
        std::string unit;
        long calls = -1;
        line >> ms >> unit >> calls;
        return calls;
    };
    EXPECT_EQ(calls_of("project (ternary)"), 5L * 7 * n_layer);
    EXPECT_EQ(calls_of("attention"), 5L * n_layer);
    EXPECT_EQ(calls_of("add"), 5L * 2 * n_layer);
    EXPECT_EQ(calls_of("output (lm_head)"), 5L);
}

}  // namespace
