#include "support/test_support.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "synth/synth.h"

namespace bitnet_test {

static bool exists(const std::string &path) {
    std::error_code error;
    return std::filesystem::exists(path, error);
}

std::string fixtures_dir() {
    const char *env = std::getenv("BITNET_FIXTURES");
    std::string dir = env && *env ? env : BITNET_FIXTURES_DIR;
    return exists(dir) ? dir : std::string();
}

std::string fixture_path(const std::string &relative) {
    std::string dir = fixtures_dir();
    if (dir.empty()) return std::string();
    std::string path = dir + "/" + relative;
    return exists(path) ? path : std::string();
}

std::string temp_dir() {
    static std::string dir;
    if (dir.empty()) {
        const char *base_env = std::getenv("BITNET_TEST_TMP");
#if defined(_WIN32)
        const std::string fallback = std::filesystem::temp_directory_path().generic_string();
#else
        const std::string fallback = "/tmp";
#endif
        std::string base = base_env && *base_env ? base_env : fallback;
        std::error_code error;
        std::filesystem::create_directories(base, error);
        // A fresh directory of a random name (mkdtemp's job; std::filesystem has no equivalent, and
        // Windows has no mkdtemp): create_directory is false when the name already exists.
        std::random_device random;
        for (int attempt = 0; attempt < 100 && dir.empty(); ++attempt) {
            char name[32];
            std::snprintf(name, sizeof name, "bitnet-test-%08x", static_cast<unsigned>(random()));
            const std::string candidate = base + "/" + name;
            if (std::filesystem::create_directory(candidate, error)) dir = candidate;
        }
        if (dir.empty()) throw std::runtime_error("cannot create a temporary directory under " + base);
    }
    return dir;
}

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> read_file_if_exists(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string synthetic_model(const std::string &preset, const std::string &format, const std::string &activation,
                            uint64_t seed) {
    static std::mutex mutex;
    static std::map<std::string, std::string> written;
    std::lock_guard<std::mutex> lock(mutex);
    std::string key = preset + "-" + format + "-" + activation + "-" + std::to_string(seed);
    auto found = written.find(key);
    if (found != written.end()) return found->second;
    bitnet::SynthOptions options;
    options.shape = bitnet::synth_preset(preset);
    options.format = *bitnet::tensor_type_from_name(format);
    options.hidden_activation = activation;
    options.seed = seed;
    std::string path = temp_dir() + "/" + key + ".gguf";
    bitnet::write_synthetic_model(options, path);
    written[key] = path;
    return path;
}

double relative_rms(const std::vector<float> &actual, const std::vector<double> &expected) {
    double mean = 0.0;
    for (double v : expected) mean += v;
    mean /= static_cast<double>(expected.size());
    double variance = 0.0, error = 0.0;
    for (size_t i = 0; i < expected.size(); ++i) {
        variance += (expected[i] - mean) * (expected[i] - mean);
        error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    }
    return std::sqrt(error / variance);
}

}  // namespace bitnet_test
