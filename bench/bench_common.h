// What bitnet-bench's measurements share: the answer to a failed library call and the median.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bitnet.h"

namespace bitnet_bench {

// The option being measured (or nullptr), what was being done, the status and the library's
// message, then exit 1: a benchmark has no partial result worth printing after a failure.
inline void exit_on_failure(const char *option, bitnet_status status, const char *what) {
    if (status == BITNET_OK) return;
    std::fprintf(stderr, "bitnet-bench: %s%s%s: %s: %s\n", option ? option : "", option ? ": " : "", what,
                 bitnet_status_string(status), bitnet_last_error());
    std::exit(1);
}

// The middle value, or the mean of the two middle ones (values must not be empty).
inline double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace bitnet_bench
