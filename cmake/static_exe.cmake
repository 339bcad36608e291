# BITNET_STATIC_EXE: a fully static `bitnet` executable (issue 19, item 4; README "Platforms"):
# static glibc, not musl (Debian's musl-tools ships no C++ standard library, and the engine needs
# libstdc++ and libgomp, which Debian's GCC ships as static archives). Only the bitnet_cli target is
# meant to be built in this mode (tests/static/run_static_test.sh):
#   cmake -S . -B build-static -DBITNET_STATIC_EXE=ON -DBITNET_VULKAN=OFF -DBITNET_TRAIN=OFF \
#     -DBITNET_CONVERT=OFF -DBITNET_TESTS=OFF -DBITNET_BENCH=OFF && cmake --build build-static --target bitnet_cli
# Included before the dependencies are looked for: pkg-config's IMPORTED_TARGETs then resolve to
# the .a archives (libzstd.a, libxxhash.a from libzstd-dev, libxxhash-dev) instead of the .so
# files, which a -static link refuses.
option(BITNET_STATIC_EXE "Link the bitnet executable fully statically (static glibc; no Vulkan, train, convert or serve)" OFF)
if(BITNET_STATIC_EXE)
  if(WIN32 OR APPLE)
    message(FATAL_ERROR "BITNET_STATIC_EXE: static glibc executables are a Linux build only")
  endif()
  # The Vulkan loader is dlopen'ed (a static glibc cannot load it); train and convert need
  # SentencePiece, which Debian ships only as a shared object.
  # Left unset (or Vulkan's AUTO), they default to OFF here; asked for ON, the configure stops.
  if(BITNET_VULKAN STREQUAL "AUTO")
    set_property(CACHE BITNET_VULKAN PROPERTY VALUE OFF)
  endif()
  foreach(off_option BITNET_TRAIN BITNET_CONVERT)
    if(NOT DEFINED ${off_option})
      set(${off_option} OFF CACHE BOOL "off in a static executable (cmake/static_exe.cmake)")
    endif()
  endforeach()
  foreach(off_option BITNET_VULKAN BITNET_TRAIN BITNET_CONVERT)
    if(${off_option})
      message(FATAL_ERROR "BITNET_STATIC_EXE needs -D${off_option}=OFF (its libraries are shared objects only, "
        "or loaded with dlopen)")
    endif()
  endforeach()
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  # The link warns that libgomp's offloading start-up uses dlopen: it is only reached when an
  # OpenMP target device plugin is installed; the CPU engine never offloads.
  message(STATUS "bitnet: BITNET_STATIC_EXE: bitnet is linked with -static (static glibc, libstdc++, libgomp)")
endif()
