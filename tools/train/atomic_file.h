// Whole-file writes that never leave a partial file at `path`: the bytes go to a temporary name
// beside it, which is renamed over the target only once complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::train {

void write_file_atomically(const std::string &path, const std::vector<uint8_t> &bytes);
std::vector<uint8_t> read_whole_file(const std::string &path);  // throws Error(BITNET_ERR_IO)
std::string read_text_file(const std::string &path);

}  // namespace bitnet::train
