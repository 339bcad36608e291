// Full 2B-4T-shape model checks (ctest label `heavy`: slow, ~1.2 GB of disk; CI skips them).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "support/official_layout.h"
#include "support/test_support.h"
#include "synth/synth.h"
#include "util/mapped_file.h"

namespace {

// Label `heavy` (see tests/CMakeLists.txt): the full 2B-4T shape, ~1.19 GB.
TEST(SynthHeavy, Full2b4tShapeMatchesTheOfficialFile) {
    bitnet::SynthOptions options;
    options.shape = bitnet::synth_preset("2b4t");
    std::string path = bitnet_test::temp_dir() + "/2b4t-i2_s.gguf";
    bitnet::write_synthetic_model(options, path);
    bitnet::MappedFile mapping = bitnet::MappedFile::open(path);
    auto file = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    bitnet_test::expect_official_layout(file, 30);
    const double official = 1187801408.0;
    std::printf("[ 2b4t ] %zu bytes, %.2f%% from the official file\n", mapping.size(),
                100.0 * (static_cast<double>(mapping.size()) - official) / official);
    EXPECT_LT(std::fabs(static_cast<double>(mapping.size()) - official) / official, 0.01);

    auto start = std::chrono::steady_clock::now();
    bitnet_model *model = nullptr;
    ASSERT_EQ(bitnet_model_load_file(path.c_str(), nullptr, &model), BITNET_OK) << bitnet_last_error();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ 2b4t ] load %.1f ms (mapped, not read)\n", ms);
    EXPECT_EQ(bitnet_model_n_tensors(model), 332);
    bitnet_model_free(model);
    std::remove(path.c_str());
}

}  // namespace
