// Shared helpers for the test programs: fixture lookup, temporary files, synthetic models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet_test {

// Folder of ../shared/fixtures (or $BITNET_FIXTURES); "" when absent.
std::string fixtures_dir();
// Path of a fixture file relative to the fixtures folder, or "" if it does not exist.
std::string fixture_path(const std::string &relative);

// A fresh, empty, per-process temporary folder for test outputs.
std::string temp_dir();

std::vector<uint8_t> read_file(const std::string &path);
// The file's bytes, or nothing when it cannot be read.
std::vector<uint8_t> read_file_if_exists(const std::string &path);
void write_file(const std::string &path, const std::vector<uint8_t> &bytes);

// A synthetic model written once per process to the temp folder (see tools/synth): preset "tiny" or
// "small", format "i2_s", "tq2_0", "tq1_0", "f16" or "f32", activation "relu2" or "silu".
std::string synthetic_model(const std::string &preset, const std::string &format,
                            const std::string &activation = "relu2", uint64_t seed = 1);

// rms(a - b) / std(b): the relative error measure of the numerical tests.
double relative_rms(const std::vector<float> &actual, const std::vector<double> &expected);

}  // namespace bitnet_test

// Skip the current test with a reason when a fixture is missing: GTEST_SKIP prints "skipped".
#define BITNET_REQUIRE_FIXTURE(var, relative)                                             \
    std::string var = ::bitnet_test::fixture_path(relative);                              \
    if (var.empty()) GTEST_SKIP() << "skipped: fixture " << (relative)                     \
                                  << " not found (set BITNET_FIXTURES or provide ../shared/fixtures)"
