// Backtraces for fatal-error reports (BITNET_ERR_INTERNAL), through libunwind when available.
#pragma once

#include <string>

namespace bitnet {

// The current call stack, one "#N function+offset" line per frame, skipping `skip` frames.
std::string capture_backtrace(int skip = 1);

}  // namespace bitnet
