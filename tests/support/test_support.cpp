#include "support/test_support.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace bitnet_test {

static bool exists(const std::string &path) {
    struct stat info;
    return stat(path.c_str(), &info) == 0;
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
        std::string base = base_env && *base_env ? base_env : "/tmp";
        mkdir(base.c_str(), 0755);
        std::string pattern = base + "/bitnet-test-XXXXXX";
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed under " + base);
        dir = pattern;
    }
    return dir;
}

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace bitnet_test
