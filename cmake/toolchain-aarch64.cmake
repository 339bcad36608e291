# Cross compiling for AArch64 Linux with Debian's cross toolchain (g++-aarch64-linux-gnu); binaries
# run under qemu-user (qemu-aarch64), which is also what ctest uses to run them.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake ...
# Used by tests/neon/run_neon_tests.sh (the kernel-layer build in tests/neon/CMakeLists.txt).
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(BITNET_CROSS_TRIPLE aarch64-linux-gnu CACHE STRING "Cross toolchain prefix")
set(BITNET_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux_cross_toolchain.cmake)
