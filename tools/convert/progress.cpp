#include "convert/progress.h"

#include <unistd.h>

#include <cstdio>

namespace bitnet::convert {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(uint64_t n_tensors, uint64_t total_bytes, bool enabled)
    : n_tensors_(n_tensors), total_bytes_(total_bytes), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

void Progress::tensor_done(const std::string &name, uint64_t bytes) {
    ++done_tensors_;
    done_bytes_ += bytes;
    if (!enabled_) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double mib = static_cast<double>(done_bytes_) / (1 << 20);
    const int width = 30;
    const int filled = total_bytes_ ? static_cast<int>(width * done_bytes_ / total_bytes_) : width;
    std::fprintf(stderr, "\r[%-*.*s] tensor %llu/%llu  %.1f/%.1f MiB  %.1f MiB/s  %-32.32s", width, filled,
                 "##############################", static_cast<unsigned long long>(done_tensors_),
                 static_cast<unsigned long long>(n_tensors_), mib, static_cast<double>(total_bytes_) / (1 << 20),
                 seconds > 0 ? mib / seconds : 0.0, name.c_str());
    std::fflush(stderr);
}

void Progress::finish() {
    if (enabled_) std::fprintf(stderr, "\n");
}

}  // namespace bitnet::convert
