# Windows (MinGW-w64, cmake/mingw-w64-x86_64.cmake): libbitnet.dll exports exactly the BITNET_API
# functions through __declspec(dllexport) (include/bitnet.h, BITNET_SHARED + BITNET_BUILD), the role
# cmake/bitnet.map plays for the ELF library; programs linking the DLL see __declspec(dllimport).
# The build also gives the import library libbitnet.dll.a and the static libbitnet.a. The engine
# objects are shared by both libraries, so the static library's functions are marked dllexport too:
# an executable linking it lists them in its export table, and MinGW's linker then writes an import
# library for the executable as well, named like the DLL's: bitnet.exe's would overwrite
# lib/libbitnet.dll.a, and programs "linking libbitnet.dll" would import from bitnet.exe
# (tests/windows/example_simple_dll.cmake checks). Executables' import libraries get their own
# suffix, set once every target exists.
target_compile_definitions(bitnet_objects PRIVATE BITNET_SHARED)
target_compile_definitions(bitnet INTERFACE BITNET_SHARED)
function(bitnet_name_executable_import_libraries)
  get_property(targets DIRECTORY ${CMAKE_SOURCE_DIR}/tools PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      set_target_properties(${target} PROPERTIES IMPORT_SUFFIX ".exe.a")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL bitnet_name_executable_import_libraries)
