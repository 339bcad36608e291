// The text behind bitnet_build_info(): version, compiler, the CPU kernel variants compiled in and
// the one selected on this machine, the backends compiled in and, with Vulkan, the devices found.
// In the API layer because it asks the kernels and the backends; util/ stays below everything.
#pragma once

#include <string>

#define BITNET_STRINGIFY_INNER(x) #x
#define BITNET_STRINGIFY(x) BITNET_STRINGIFY_INNER(x)
#define BITNET_VERSION_STRING                                                                  \
    BITNET_STRINGIFY(BITNET_VERSION_MAJOR) "." BITNET_STRINGIFY(BITNET_VERSION_MINOR) "." BITNET_STRINGIFY( \
        BITNET_VERSION_PATCH)

namespace bitnet {

// One line, e.g. "bitnet 0.1.0; compiler GNU 12.2.0; threads openmp; cpu kernels scalar,avx2,avx512
// (using avx2); backends cpu,vulkan; vulkan devices: 0 = llvmpipe (LLVM 15.0.6, 256 bits) (cpu)".
// Without a usable Vulkan device the last part is "vulkan devices: none (why)". Made on the first
// call and cached (thread-safe); never throws for a missing loader or driver.
std::string describe_build();

// Whether the Vulkan backend is compiled in, without looking for devices (tests use it to tell a
// build without Vulkan from a machine without a device).
bool built_with_vulkan();

}  // namespace bitnet
