// Backtraces for internal-error reports (BITNET_ERR_INTERNAL).
//
// Captured where the failure is raised (bitnet::fail with BITNET_ERR_INTERNAL), before the stack
// unwinds, and logged by the API boundary. The stack is walked by the C library's backtrace(),
// which uses the toolchain's own unwinder (libgcc_s): the library does not bring a second unwinder
// into the host process, so the host's exceptions keep their runtime (tests/test_host_exceptions).
#pragma once

#include <string>

namespace bitnet {

// The current call stack, one "#N 0xPC module+0xOFFSET (symbol+0xOFFSET)" line per frame,
// skipping `skip` innermost frames. Module offsets resolve with `addr2line -Cfe MODULE 0xOFFSET`.
std::string capture_backtrace(int skip = 1);

}  // namespace bitnet
