# Vulkan backend: GLSL compute shaders compiled to SPIR-V by glslangValidator at build time and
# embedded in the library. The Vulkan loader itself is opened at run time (dlopen), so a machine
# without libvulkan still runs the library on the CPU.
#
# BITNET_VULKAN (CMakeLists.txt):
#   AUTO (default)  build the backend when the Vulkan headers and glslangValidator are found; when
#                   they are not, say so with a warning and build without it (so a user without
#                   the SDK can still build). test_vulkan then skips, saying the build has no Vulkan.
#   ON              the backend is required: configuring fails when the headers or glslangValidator
#                   are missing. CI passes -DBITNET_VULKAN=ON, so it can never build without Vulkan
#                   unnoticed and skip the Vulkan tests.
#   OFF             no Vulkan backend.
# BITNET_HAVE_VULKAN says what was decided (also printed); a build without it has no "vulkan" in
# bitnet_build_info().
set(BITNET_HAVE_VULKAN OFF)
string(TOUPPER "${BITNET_VULKAN}" bitnet_vulkan_mode)
if(bitnet_vulkan_mode STREQUAL "AUTO")
  set(bitnet_vulkan_required OFF)
elseif(BITNET_VULKAN)
  set(bitnet_vulkan_required ON)
else()
  set(bitnet_vulkan_mode OFF)
endif()
if(NOT bitnet_vulkan_mode STREQUAL "OFF")
  find_path(VULKAN_HEADER_DIR vulkan/vulkan.h)
  find_program(GLSLANG_VALIDATOR glslangValidator)
  file(GLOB BITNET_VULKAN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/backend/vulkan/*.cpp)
  file(GLOB BITNET_SHADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/shaders/*.comp)
  # Code the shaders #include (shaders/*.glsl, and shaders/*.h shared with the C++ backend): every
  # shader is rebuilt when one changes.
  file(GLOB BITNET_SHADER_INCLUDES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/shaders/*.glsl ${CMAKE_SOURCE_DIR}/shaders/*.h)
  set(bitnet_vulkan_missing "")
  if(NOT VULKAN_HEADER_DIR)
    list(APPEND bitnet_vulkan_missing "the Vulkan headers (vulkan/vulkan.h)")
  endif()
  if(NOT GLSLANG_VALIDATOR)
    list(APPEND bitnet_vulkan_missing "glslangValidator")
  endif()
  if(NOT BITNET_VULKAN_SOURCES)
    list(APPEND bitnet_vulkan_missing "the sources in lib/backend/vulkan")
  endif()
  string(JOIN " and " bitnet_vulkan_missing_text ${bitnet_vulkan_missing})
  if(bitnet_vulkan_missing AND bitnet_vulkan_required)
    message(FATAL_ERROR "bitnet: BITNET_VULKAN=ON but ${bitnet_vulkan_missing_text} could not be found. "
      "Install them (Debian/Ubuntu: libvulkan-dev glslang-tools), or configure with -DBITNET_VULKAN=AUTO "
      "(build without Vulkan when they are missing) or -DBITNET_VULKAN=OFF.")
  elseif(bitnet_vulkan_missing)
    message(WARNING "bitnet: building WITHOUT the Vulkan backend: ${bitnet_vulkan_missing_text} could not be "
      "found (BITNET_VULKAN=AUTO). The Vulkan tests will skip. Install libvulkan-dev and glslang-tools, or pass "
      "-DBITNET_VULKAN=ON to make them required.")
  else()
    set(BITNET_HAVE_VULKAN ON)
    set(spirv_headers "")
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/generated/shaders)
    # One SPIR-V module `output_name` from `shader` (embedded as spirv_<output_name>), for the
    # target environment `env`, with the remaining arguments as preprocessor definitions.
    function(bitnet_compile_shader shader output_name env)
      set(spirv ${CMAKE_BINARY_DIR}/generated/shaders/${output_name}.spv)
      set(header ${CMAKE_BINARY_DIR}/generated/shaders/${output_name}.spv.h)
      set(defines "")
      foreach(define ${ARGN})
        list(APPEND defines -D${define})
      endforeach()
      add_custom_command(OUTPUT ${header}
        COMMAND ${GLSLANG_VALIDATOR} -V --target-env ${env} ${defines} -o ${spirv} ${shader}
        COMMAND ${CMAKE_COMMAND} -DINPUT=${spirv} -DOUTPUT=${header} -DSYMBOL=spirv_${output_name}
                -P ${CMAKE_SOURCE_DIR}/cmake/embed_spirv.cmake
        DEPENDS ${shader} ${BITNET_SHADER_INCLUDES} ${CMAKE_SOURCE_DIR}/cmake/embed_spirv.cmake
        COMMENT "glslang: ${output_name} (${shader})")
      set(spirv_headers ${spirv_headers} ${header} PARENT_SCOPE)
    endfunction()
    foreach(shader ${BITNET_SHADERS})
      get_filename_component(shader_name ${shader} NAME_WE)
      # SPIR-V 1.0 (Vulkan 1.0): the base shaders need nothing newer, so every Vulkan device runs them.
      bitnet_compile_shader(${shader} ${shader_name} vulkan1.0)
      # The ternary matmuls also come with integer-dot and subgroup-reduction variants (see
      # shaders/matmul_a8.glsl), SPIR-V 1.3 (Vulkan 1.1), used only where the device has the features.
      if(shader_name MATCHES "^matmul_(i2s|tq1|tq2)$")
        bitnet_compile_shader(${shader} ${shader_name}_dot vulkan1.1 INTEGER_DOT=1)
        bitnet_compile_shader(${shader} ${shader_name}_subgroup vulkan1.1 SUBGROUP_REDUCE=1)
        bitnet_compile_shader(${shader} ${shader_name}_dot_subgroup vulkan1.1 INTEGER_DOT=1 SUBGROUP_REDUCE=1)
      endif()
    endforeach()
    add_custom_target(bitnet_shaders DEPENDS ${spirv_headers})
    target_sources(bitnet_objects PRIVATE ${BITNET_VULKAN_SOURCES})
    add_dependencies(bitnet_objects bitnet_shaders)
    target_include_directories(bitnet_objects PRIVATE ${VULKAN_HEADER_DIR})
    # Only on the files that read them, not on all of bitnet_objects: the other engine objects then
    # compile with the same command line as in a build without Vulkan, and .ci/run's static build
    # (tests/static/run_static_test.sh, same compiler and flags) takes them from ccache.
    set_property(SOURCE ${BITNET_VULKAN_SOURCES} ${CMAKE_SOURCE_DIR}/lib/backend/backend_registry.cpp
      ${CMAKE_SOURCE_DIR}/lib/api/build_info.cpp ${CMAKE_SOURCE_DIR}/lib/backend/vulkan_measure_none.cpp
      APPEND PROPERTY COMPILE_DEFINITIONS BITNET_HAVE_VULKAN VK_NO_PROTOTYPES)
  endif()
endif()
if(BITNET_HAVE_VULKAN)
  message(STATUS "bitnet: Vulkan backend: ON (BITNET_VULKAN=${BITNET_VULKAN}; ${GLSLANG_VALIDATOR})")
else()
  message(STATUS "bitnet: Vulkan backend: OFF (BITNET_VULKAN=${BITNET_VULKAN})")
endif()
