#include "train/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace bitnet::train {

void write_file_atomically(const std::string &path, const std::vector<uint8_t> &bytes) {
    const std::string temporary = path + ".tmp." + std::to_string(getpid());
    std::FILE *file = std::fopen(temporary.c_str(), "wb");
    if (!file) fail(BITNET_ERR_IO, "train: cannot create '%s': %s", temporary.c_str(), std::strerror(errno));
    bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    ok = std::fflush(file) == 0 && ok;
    ok = fsync(fileno(file)) == 0 && ok;
    ok = std::fclose(file) == 0 && ok;
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        std::remove(temporary.c_str());
        fail(BITNET_ERR_IO, "train: writing '%s' failed: %s", path.c_str(), std::strerror(saved));
    }
}

std::vector<uint8_t> read_whole_file(const std::string &path) {
    std::FILE *file = std::fopen(path.c_str(), "rb");
    if (!file) fail(BITNET_ERR_IO, "train: cannot open '%s': %s", path.c_str(), std::strerror(errno));
    std::vector<uint8_t> bytes;
    uint8_t buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
    const bool failed = std::ferror(file) != 0;
    std::fclose(file);
    if (failed) fail(BITNET_ERR_IO, "train: cannot read '%s'", path.c_str());
    return bytes;
}

std::string read_text_file(const std::string &path) {
    std::vector<uint8_t> bytes = read_whole_file(path);
    return std::string(bytes.begin(), bytes.end());
}

}  // namespace bitnet::train
