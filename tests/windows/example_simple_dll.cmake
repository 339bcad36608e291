# ctest script (tests/windows/CMakeLists.txt): bitnet.exe writes a tiny synthetic model, then
# examples/simple.c, built against libbitnet.dll, loads it and generates 16 tokens under Wine.
# Passes when simple.exe exits 0 and printed text; fails with both outputs otherwise.
file(MAKE_DIRECTORY ${WORK_DIR})
# simple.exe must import libbitnet.dll, not carry a static copy of the engine.
execute_process(COMMAND ${OBJDUMP} -p ${EXAMPLE} OUTPUT_VARIABLE headers RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR NOT headers MATCHES "DLL Name: libbitnet\\.dll")
  message(FATAL_ERROR "${EXAMPLE} does not import libbitnet.dll (objdump -p: ${status})")
endif()
set(model ${WORK_DIR}/tiny.gguf)
execute_process(COMMAND ${BITNET_EMULATOR} ${BITNET_CLI} synth --preset tiny --format i2_s --seed 3 -o ${model}
  RESULT_VARIABLE status ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "bitnet.exe synth failed (${status}): ${errors}")
endif()
execute_process(COMMAND ${BITNET_EMULATOR} ${EXAMPLE} ${model} "Once upon a time" 16
  RESULT_VARIABLE status OUTPUT_VARIABLE text ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "simple.exe failed (${status}): ${errors}\noutput: ${text}")
endif()
string(LENGTH "${text}" length)
if(length EQUAL 0)
  message(FATAL_ERROR "simple.exe generated no text: ${errors}")
endif()
message(STATUS "simple.exe (libbitnet.dll) generated ${length} bytes: ${text}")
