# Cross compiling for 32-bit ARM Linux (armhf: ARMv7-A, hard-float ABI) with Debian's cross
# toolchain (g++-arm-linux-gnueabihf); binaries run under qemu-user (qemu-arm), which is also what
# ctest uses to run them.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake ...
# The code is built for Debian's armhf baseline (ARMv7-A, VFPv3-D16, Thumb-2: the compiler's
# defaults), so it runs on boards without NEON; only kernels/neon/ is compiled with
# -mfpu=neon-vfpv4 (BITNET_ARM32_NEON_FLAGS) and chosen at run time when AT_HWCAP says NEON and
# VFPv4 (kernels/cpu_features.cpp). Used by tests/armhf/run_armhf_tests.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

set(BITNET_ARMHF_TRIPLE arm-linux-gnueabihf CACHE STRING "Cross toolchain prefix")
set(BITNET_ARMHF_SYSROOT /usr/${BITNET_ARMHF_TRIPLE} CACHE PATH "Target libraries (Debian's cross root)")
set(CMAKE_C_COMPILER ${BITNET_ARMHF_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BITNET_ARMHF_TRIPLE}-g++)

# Look for target libraries and headers only in the cross root, for programs only on the host.
# pkg-config likewise: only the cross root's .pc files (Debian ships zstd/xxhash for armhf only as
# multiarch packages, which this build does not need; see cmake/zstd_xxhash.cmake).
set(CMAKE_FIND_ROOT_PATH ${BITNET_ARMHF_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} ${BITNET_ARMHF_SYSROOT}/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L ${BITNET_ARMHF_SYSROOT})
