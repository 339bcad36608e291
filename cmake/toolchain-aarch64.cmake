# Cross compiling for AArch64 Linux with Debian's cross toolchain (g++-aarch64-linux-gnu); binaries
# run under qemu-user (qemu-aarch64), which is also what ctest uses to run them.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake ...
# Used by tests/neon/run_neon_tests.sh (the kernel-layer build in tests/neon/CMakeLists.txt).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(BITNET_AARCH64_TRIPLE aarch64-linux-gnu CACHE STRING "Cross toolchain prefix")
set(BITNET_AARCH64_SYSROOT /usr/${BITNET_AARCH64_TRIPLE} CACHE PATH "Target libraries (Debian's multiarch cross root)")
set(CMAKE_C_COMPILER ${BITNET_AARCH64_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BITNET_AARCH64_TRIPLE}-g++)

# Look for target libraries and headers only in the cross root, for programs only on the host.
set(CMAKE_FIND_ROOT_PATH ${BITNET_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L ${BITNET_AARCH64_SYSROOT})
