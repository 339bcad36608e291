# Cross compiling for 32-bit ARM Linux (armhf: ARMv7-A, hard-float ABI) with Debian's cross
# toolchain (g++-arm-linux-gnueabihf); binaries run under qemu-user (qemu-arm), which is also what
# ctest uses to run them.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake ...
# The code is built for Debian's armhf baseline (ARMv7-A, VFPv3-D16, Thumb-2: the compiler's
# defaults), so it runs on boards without NEON; only kernels/neon/ is compiled with
# -mfpu=neon-vfpv4 (BITNET_ARM32_NEON_FLAGS) and chosen at run time when AT_HWCAP says NEON and
# VFPv4 (kernels/cpu_features.cpp). Used by tests/armhf/run_armhf_tests.sh and run_armhf_engine.sh.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(BITNET_CROSS_TRIPLE arm-linux-gnueabihf CACHE STRING "Cross toolchain prefix")
set(BITNET_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/linux_cross_toolchain.cmake)
