# zstd (state files, lib/state/state_file.cpp) and xxhash (state checksums, the model fingerprint,
# the tokenizer's hash maps) as two interface targets, bitnet_zstd and bitnet_xxhash.
#
# A native build finds both through pkg-config (Debian libzstd-dev, libxxhash-dev) and needs both.
# Debian ships neither for MinGW-w64 and nothing may be downloaded, so a cross build for Windows
# (cmake/mingw-w64-x86_64.cmake) uses xxhash header-only (XXH_INLINE_ALL: the whole implementation
# is in xxhash.h, a documented mode of the library) and goes without zstd: state files then fail
# with "built without zstd" (BITNET_HAVE_ZSTD undefined), everything else works.

add_library(bitnet_zstd INTERFACE)
add_library(bitnet_xxhash INTERFACE)

pkg_check_modules(ZSTD IMPORTED_TARGET libzstd)
if(ZSTD_FOUND)
  target_link_libraries(bitnet_zstd INTERFACE PkgConfig::ZSTD)
  target_compile_definitions(bitnet_zstd INTERFACE BITNET_HAVE_ZSTD)
elseif(CMAKE_CROSSCOMPILING)
  message(STATUS "bitnet: no zstd for this target: built without zstd, so saving or loading a state file "
    "fails with a message saying so (everything else works)")
else()
  message(FATAL_ERROR "bitnet: zstd not found (Debian: apt-get install libzstd-dev)")
endif()

pkg_check_modules(XXHASH IMPORTED_TARGET libxxhash)
if(XXHASH_FOUND)
  target_link_libraries(bitnet_xxhash INTERFACE PkgConfig::XXHASH)
elseif(CMAKE_CROSSCOMPILING)
  # The host's header (libxxhash-dev) is copied into the build tree: putting the host's
  # /usr/include on a Windows include path would mix Linux headers into the build.
  set(BITNET_XXHASH_HEADER /usr/include/xxhash.h CACHE FILEPATH "xxhash.h used header-only (XXH_INLINE_ALL)")
  if(NOT EXISTS ${BITNET_XXHASH_HEADER})
    message(FATAL_ERROR "bitnet: no xxhash for this target and no header at ${BITNET_XXHASH_HEADER} "
      "(Debian: apt-get install libxxhash-dev, or set BITNET_XXHASH_HEADER)")
  endif()
  configure_file(${BITNET_XXHASH_HEADER} ${CMAKE_BINARY_DIR}/xxhash-header/xxhash.h COPYONLY)
  target_include_directories(bitnet_xxhash INTERFACE $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/xxhash-header>)
  target_compile_definitions(bitnet_xxhash INTERFACE XXH_INLINE_ALL)
  message(STATUS "bitnet: xxhash header-only (XXH_INLINE_ALL) from ${BITNET_XXHASH_HEADER}")
else()
  message(FATAL_ERROR "bitnet: xxhash not found (Debian: apt-get install libxxhash-dev)")
endif()
