# What the test builds of a cross target (tests/windows, tests/armhf) share: GoogleTest compiled with
# the cross compiler from Debian's source package (googletest, /usr/src/googletest: Debian ships no
# libgtest for MinGW or in the armhf cross root), and the test-support library (model builders, the
# double-precision reference) without the helpers none of their programs uses.
#   bitnet_cross_test_support(TARGET_NAME SUPPORT_EXCLUDE_REGEX)
# TARGET_NAME names the target in the error message; SUPPORT_EXCLUDE_REGEX drops tests/support files.
# Also sets `tests_dir` in the caller's scope, for its own programs. (A function, not a macro: a
# macro would paste the regex's backslashes into its body, where CMake reads them as escapes.)
function(bitnet_cross_test_support target_name support_exclude_regex)
  set(BITNET_GOOGLETEST_SOURCE /usr/src/googletest CACHE PATH "GoogleTest sources (Debian: googletest)")
  if(NOT EXISTS ${BITNET_GOOGLETEST_SOURCE}/CMakeLists.txt)
    message(FATAL_ERROR "The ${target_name} tests need GoogleTest's sources at ${BITNET_GOOGLETEST_SOURCE} "
      "(Debian: apt-get install googletest), or configure with -DBITNET_TESTS=OFF")
  endif()
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  add_subdirectory(${BITNET_GOOGLETEST_SOURCE} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)

  set(BITNET_FIXTURES_DIR "${CMAKE_SOURCE_DIR}/../shared/fixtures" CACHE PATH "Shared test fixtures")
  set(tests_dir ${CMAKE_SOURCE_DIR}/tests)
  set(tests_dir ${tests_dir} PARENT_SCOPE)

  file(GLOB support_sources CONFIGURE_DEPENDS ${tests_dir}/support/*.cpp ${tests_dir}/support/*.c
    ${tests_dir}/reference/*.cpp)
  list(FILTER support_sources EXCLUDE REGEX "${support_exclude_regex}")
  add_library(bitnet_test_support STATIC ${support_sources})
  target_include_directories(bitnet_test_support PUBLIC ${tests_dir})
  target_link_libraries(bitnet_test_support PUBLIC bitnet_tools bitnet_internal GTest::gtest)
  target_compile_definitions(bitnet_test_support PUBLIC
    BITNET_FIXTURES_DIR="${BITNET_FIXTURES_DIR}"
    BITNET_BINARY_DIR="${CMAKE_BINARY_DIR}"
    BITNET_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endfunction()
