// bitnet-bench's answer to a failed library call: the option being measured (or nullptr), what
// was being done, the status and the library's message, then exit 1. A benchmark has no partial
// result worth printing after a failure.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "bitnet.h"

namespace bitnet_bench {

inline void exit_on_failure(const char *option, bitnet_status status, const char *what) {
    if (status == BITNET_OK) return;
    std::fprintf(stderr, "bitnet-bench: %s%s%s: %s: %s\n", option ? option : "", option ? ": " : "", what,
                 bitnet_status_string(status), bitnet_last_error());
    std::exit(1);
}

}  // namespace bitnet_bench
