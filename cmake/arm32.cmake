# 32-bit ARM (cmake/toolchain-armhf.cmake): which kernels/neon/ files are built and how, and a
# compiler workaround.
# In: BITNET_NEON_SOURCES (every kernels/neon/*.cpp). Out: the same list without the AArch64-only
# SDOT variant (neon_dotprod_kernels.cpp), each file compiled for NEON with VFPv4 (VFMA, the
# fused multiply-add the float kernels specify) and IEEE half floats (the F16 loads' VCVT). The
# rest of the engine keeps the target's baseline (Debian armhf: VFPv3-D16, no NEON), and
# kernels/dispatch.cpp picks "neon" only where AT_HWCAP reports NEON and VFPv4.
list(FILTER BITNET_NEON_SOURCES EXCLUDE REGEX "/neon_dotprod_kernels\\.cpp$")
set(BITNET_ARM32_NEON_FLAGS -mfpu=neon-vfpv4 -mfp16-format=ieee CACHE STRING
  "Compiler flags of the 32-bit ARM NEON kernel files")
set_source_files_properties(${BITNET_NEON_SOURCES} PROPERTIES COMPILE_OPTIONS "${BITNET_ARM32_NEON_FLAGS}")

# GCC 12 (Debian's arm-linux-gnueabihf-g++ 12.2) miscompiles the scalar TQ1_0 decoder
# (kernels/scalar/scalar_kernels.cpp, decode_tq1_codes) at -O3 on this target: without NEON its
# SLP vectorizer packs four uint8 lanes into one 32-bit register and multiplies them as one word,
# so carries cross lanes (found by ScalarKernels.GemmTQ1FollowsFormatsMd under qemu-arm; -O2 and
# -fno-tree-slp-vectorize both give the right codes). Off for every file of a 32-bit ARM build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-fno-tree-slp-vectorize)
endif()

# 64-bit off_t on this 32-bit target (glibc's default is 32 bits, with which fstat fails with
# EOVERFLOW on a file over 2 GiB): files of any size are then opened and refused by their real
# size (lib/util/checked_math.h, kMaxMappableBytes).
add_compile_definitions(_FILE_OFFSET_BITS=64)
