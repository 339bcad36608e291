# Vulkan backend: GLSL compute shaders compiled to SPIR-V by glslangValidator at build time and
# embedded in the library. The Vulkan loader itself is opened at run time (dlopen), so a machine
# without libvulkan still runs the library on the CPU.
set(BITNET_HAVE_VULKAN OFF)
if(BITNET_VULKAN)
  find_path(VULKAN_HEADER_DIR vulkan/vulkan.h)
  find_program(GLSLANG_VALIDATOR glslangValidator)
  file(GLOB BITNET_VULKAN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/backend/vulkan/*.cpp)
  file(GLOB BITNET_SHADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/shaders/*.comp)
  # Code the shaders #include (shaders/*.glsl): every shader is rebuilt when one changes.
  file(GLOB BITNET_SHADER_INCLUDES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/shaders/*.glsl)
  if(NOT VULKAN_HEADER_DIR OR NOT GLSLANG_VALIDATOR)
    message(STATUS "bitnet: Vulkan headers or glslangValidator missing: building without Vulkan")
  elseif(BITNET_VULKAN_SOURCES)
    set(BITNET_HAVE_VULKAN ON)
    set(spirv_headers "")
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/generated/shaders)
    foreach(shader ${BITNET_SHADERS})
      get_filename_component(shader_name ${shader} NAME_WE)
      set(spirv ${CMAKE_BINARY_DIR}/generated/shaders/${shader_name}.spv)
      set(header ${CMAKE_BINARY_DIR}/generated/shaders/${shader_name}.spv.h)
      add_custom_command(OUTPUT ${header}
        # SPIR-V 1.0 (Vulkan 1.0): the shaders need nothing newer, so every Vulkan device runs them.
        COMMAND ${GLSLANG_VALIDATOR} -V --target-env vulkan1.0 -o ${spirv} ${shader}
        COMMAND ${CMAKE_COMMAND} -DINPUT=${spirv} -DOUTPUT=${header} -DSYMBOL=spirv_${shader_name}
                -P ${CMAKE_SOURCE_DIR}/cmake/embed_spirv.cmake
        DEPENDS ${shader} ${BITNET_SHADER_INCLUDES} ${CMAKE_SOURCE_DIR}/cmake/embed_spirv.cmake
        COMMENT "glslang: ${shader_name}.comp")
      list(APPEND spirv_headers ${header})
    endforeach()
    add_custom_target(bitnet_shaders DEPENDS ${spirv_headers})
    target_sources(bitnet_objects PRIVATE ${BITNET_VULKAN_SOURCES})
    add_dependencies(bitnet_objects bitnet_shaders)
    target_include_directories(bitnet_objects PRIVATE ${VULKAN_HEADER_DIR})
    target_compile_definitions(bitnet_objects PRIVATE BITNET_HAVE_VULKAN VK_NO_PROTOTYPES)
  endif()
endif()
