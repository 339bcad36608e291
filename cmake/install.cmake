# Installation: header, both libraries, two pkg-config files and a CMake package (find_package(bitnet)).
#   bitnet.pc         the shared library: cc app.c $(pkg-config --cflags --libs bitnet)
#   bitnet-static.pc  the static library: cc app.c $(pkg-config --static --cflags --libs bitnet-static)
#                     (`pkg-config --static bitnet` gives -lbitnet, which links libbitnet.so when both
#                     libraries are installed, as they are here)
#   CMake             bitnet::bitnet (shared) and bitnet::bitnet_static
include(CMakePackageConfigHelpers)

# What a static link needs besides libbitnet.a itself (bitnet.pc Libs.private, bitnet-static.pc Libs).
set(BITNET_PRIVATE_LIBS -lzstd -lxxhash)
if(BITNET_OPENMP)
  # The compiler's OpenMP runtime: GCC's libgomp (-lgomp, on the linker's default path), or clang's
  # libomp (the __kmpc_* entry points), which Debian keeps in /usr/lib/llvm-<N>/lib: named by its
  # full path, as FindOpenMP found it.
  set(bitnet_openmp_runtime "")
  foreach(name ${OpenMP_CXX_LIB_NAMES})
    if(NOT name STREQUAL "pthread" AND NOT bitnet_openmp_runtime)
      set(bitnet_openmp_runtime ${name})
    endif()
  endforeach()
  if(bitnet_openmp_runtime STREQUAL "gomp" OR NOT bitnet_openmp_runtime OR NOT OpenMP_${bitnet_openmp_runtime}_LIBRARY)
    list(APPEND BITNET_PRIVATE_LIBS -lgomp)
  else()
    list(APPEND BITNET_PRIVATE_LIBS ${OpenMP_${bitnet_openmp_runtime}_LIBRARY})
  endif()
endif()
list(APPEND BITNET_PRIVATE_LIBS -lstdc++ -lm -lpthread -ldl)
string(JOIN " " BITNET_LIBS_PRIVATE ${BITNET_PRIVATE_LIBS})

string(REPLACE "-l" "" bitnet_static_link_names "${BITNET_PRIVATE_LIBS}")
target_link_libraries(bitnet_static INTERFACE $<INSTALL_INTERFACE:${bitnet_static_link_names}>)

install(FILES ${CMAKE_SOURCE_DIR}/include/bitnet.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS bitnet bitnet_static EXPORT bitnetTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT bitnetTargets NAMESPACE bitnet:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bitnet)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/bitnetConfig.cmake.in
  ${CMAKE_BINARY_DIR}/bitnetConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bitnet)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/bitnetConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/bitnetConfig.cmake ${CMAKE_BINARY_DIR}/bitnetConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bitnet)

# The .pc file finds its prefix relative to itself, so an installed tree can be moved.
file(RELATIVE_PATH BITNET_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
foreach(pc bitnet bitnet-static)
  configure_file(${CMAKE_SOURCE_DIR}/pkgconfig/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
# The `bitnet` command (tools/cli) is installed; bitnet_tools, the internal library of file-writing
# tooling it links statically, is not (tests/install/test_install.sh checks).
install(TARGETS bitnet_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
