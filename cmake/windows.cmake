# Windows (MinGW-w64, cmake/mingw-w64-x86_64.cmake): libbitnet.dll exports exactly the BITNET_API
# functions through __declspec(dllexport) (include/bitnet.h, BITNET_SHARED + BITNET_BUILD), the role
# cmake/bitnet.map plays for the ELF library; programs linking the DLL see __declspec(dllimport).
# The build also gives the import library libbitnet.dll.a and the static libbitnet.a. The engine
# objects are shared by both libraries, so the static library's functions are marked dllexport too:
# harmless, an executable linking it merely lists them in its export table.
target_compile_definitions(bitnet_objects PRIVATE BITNET_SHARED)
target_compile_definitions(bitnet INTERFACE BITNET_SHARED)
