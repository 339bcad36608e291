# The language bindings, each built and tested against a copy of the library installed into a
# temporary prefix, and compared with the C API's greedy tokens (tests/bindings/*.sh).
# Like install_and_link, the programs are built without sanitizer runtimes.
find_program(BASH bash REQUIRED)
foreach(language rust lua python)
  add_test(NAME binding_${language}
    COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/bindings/test_${language}.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(binding_${language} PROPERTIES LABELS "no-sanitizer" TIMEOUT 300)
endforeach()
# A first cargo build compiles both crates and their tests from scratch.
set_tests_properties(binding_rust PROPERTIES TIMEOUT 900)
