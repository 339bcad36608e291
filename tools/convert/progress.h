// A one-line progress bar on stderr ("tensor n/N, bytes, rate"), drawn only when stderr is a
// terminal so that logs and pipes stay quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bitnet::convert {

class Progress {
public:
    Progress(uint64_t n_tensors, uint64_t total_bytes, bool enabled);
    // Called after each tensor is written.
    void tensor_done(const std::string &name, uint64_t bytes);
    void finish();

private:
    uint64_t n_tensors_, total_bytes_;
    uint64_t done_tensors_ = 0, done_bytes_ = 0;
    bool enabled_;
    std::chrono::steady_clock::time_point start_;
};

// True when stderr is a terminal.
bool stderr_is_terminal();

}  // namespace bitnet::convert
