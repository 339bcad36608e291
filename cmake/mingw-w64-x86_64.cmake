# Cross compiling for 64-bit Windows with Debian's MinGW-w64 toolchain (g++-mingw-w64-x86-64-posix:
# the "posix" thread model, whose libstdc++ has std::thread and whose libgomp gives OpenMP).
# Programs run under Wine (Debian wine64), which is also what ctest uses to run them.
#   cmake -S . -B build-mingw -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake && cmake --build build-mingw
# docs/windows.md says what this build contains and what it leaves out; tests/windows/ runs it.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(BITNET_MINGW_TRIPLE x86_64-w64-mingw32 CACHE STRING "Cross toolchain prefix")
set(CMAKE_C_COMPILER ${BITNET_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${BITNET_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${BITNET_MINGW_TRIPLE}-windres)

# Target headers and libraries only from the MinGW root, host programs only from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${BITNET_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config would otherwise answer with the host's Linux libraries (libzstd, openblas, ...).
set(ENV{PKG_CONFIG_LIBDIR} /usr/${BITNET_MINGW_TRIPLE}/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# The GCC runtime (libstdc++, libgcc, libwinpthread, libgomp) linked in statically, so bitnet.exe
# and libbitnet.dll run on a bare Windows (and under Wine) without the toolchain's DLLs beside them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
# FindOpenMP would name the import library libgomp.dll.a, which -static does not replace: point it
# at the toolchain's static libgomp.a.
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libgomp.a OUTPUT_VARIABLE BITNET_MINGW_LIBGOMP
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(BITNET_MINGW_LIBGOMP AND EXISTS "${BITNET_MINGW_LIBGOMP}")
  set(OpenMP_gomp_LIBRARY ${BITNET_MINGW_LIBGOMP} CACHE FILEPATH "libgomp, static (cmake/mingw-w64-x86_64.cmake)")
endif()

# wine64 directly: Debian's `wine` wrapper looks for the 32-bit loader first and prints a hint.
find_program(BITNET_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_DEFAULT_PATH)
if(NOT BITNET_WINE64)
  find_program(BITNET_WINE64 NAMES wine64 wine)
endif()
if(BITNET_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${BITNET_WINE64})
endif()
