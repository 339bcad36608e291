# What every Linux cross toolchain file here shares (cmake/toolchain-aarch64.cmake,
# cmake/toolchain-armhf.cmake): Debian's cross compilers <triple>-gcc/g++, target libraries and
# headers only from the cross root /usr/<triple>, and binaries run under qemu-user (also by ctest).
# In: CMAKE_SYSTEM_PROCESSOR, BITNET_CROSS_TRIPLE (e.g. arm-linux-gnueabihf) and BITNET_CROSS_QEMU
# (qemu-arm, qemu-aarch64), set by the including toolchain file.
set(CMAKE_SYSTEM_NAME Linux)

set(BITNET_CROSS_SYSROOT /usr/${BITNET_CROSS_TRIPLE} CACHE PATH "Target libraries (Debian's cross root)")
set(CMAKE_C_COMPILER ${BITNET_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BITNET_CROSS_TRIPLE}-g++)

# Look for target libraries and headers only in the cross root, for programs only on the host.
# pkg-config likewise: only the cross root's .pc files (Debian ships zstd/xxhash for these targets
# only as multiarch packages, which these builds do not need; see cmake/zstd_xxhash.cmake).
set(CMAKE_FIND_ROOT_PATH ${BITNET_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} ${BITNET_CROSS_SYSROOT}/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_CROSSCOMPILING_EMULATOR ${BITNET_CROSS_QEMU} -L ${BITNET_CROSS_SYSROOT})
