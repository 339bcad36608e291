# Tests that are scripts rather than GoogleTest programs.
find_program(BASH bash REQUIRED)
add_test(NAME install_and_link
  COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/install/test_install.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
# The consumer programs are built without sanitizer runtimes, so this test skips sanitizer builds.
set_tests_properties(install_and_link PROPERTIES LABELS "no-sanitizer" TIMEOUT 300)

add_test(NAME cli_end_to_end COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli.sh $<TARGET_FILE:bitnet_cli>)
set_tests_properties(cli_end_to_end PROPERTIES TIMEOUT 300)
add_test(NAME cli_chat_turns COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_chat.sh $<TARGET_FILE:bitnet_cli>)
set_tests_properties(cli_chat_turns PROPERTIES TIMEOUT 300)
include(${CMAKE_CURRENT_SOURCE_DIR}/bindings.cmake OPTIONAL)
# The tools on the Vulkan backend; prints "skipped: ..." and passes where there is no Vulkan device.
if(TARGET bitnet-bench)
  add_test(NAME cli_vulkan COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_vulkan_cli.sh
    $<TARGET_FILE:bitnet_cli> $<TARGET_FILE:bitnet-bench>)
else()
  add_test(NAME cli_vulkan COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_vulkan_cli.sh $<TARGET_FILE:bitnet_cli>)
endif()
set_tests_properties(cli_vulkan PROPERTIES TIMEOUT 300)
# bitnet-bench -np (parallel sequences): the option's rows and messages, not its speed.
if(TARGET bitnet-bench)
  add_test(NAME bench_parallel_sequences COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_bench_parallel.sh
    $<TARGET_FILE:bitnet_cli> $<TARGET_FILE:bitnet-bench>)
  set_tests_properties(bench_parallel_sequences PROPERTIES TIMEOUT 120)
endif()
add_test(NAME cli_generation COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_generation.sh $<TARGET_FILE:bitnet_cli>)
set_tests_properties(cli_generation PROPERTIES TIMEOUT 300)
add_test(NAME cli_speculative COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_speculative_cli.sh $<TARGET_FILE:bitnet_cli>)
set_tests_properties(cli_speculative PROPERTIES TIMEOUT 300)
add_test(NAME cli_chat_context COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_chat_context.sh $<TARGET_FILE:bitnet_cli>)
set_tests_properties(cli_chat_context PROPERTIES TIMEOUT 300)

# Layout rules (design.md): libbitnet holds the engine only, and the examples and the model-using
# subcommands of `bitnet` compile against bitnet.h alone.
add_test(NAME layout_engine_only COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/layout/test_engine_only.sh
  $<TARGET_FILE:bitnet_static> $<TARGET_FILE:bitnet>)
file(GLOB BITNET_EXAMPLE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.c)
add_test(NAME layout_public_api_only COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/layout/test_public_api_only.sh
  ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER} ${CMAKE_SOURCE_DIR} ${BITNET_EXAMPLE_SOURCES} ${BITNET_CLI_PUBLIC_SOURCES})

# Every "formats.md §x" the sources cite must be a section of docs/formats.md.
add_test(NAME formats_citations
  COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_formats_citations.sh ${CMAKE_SOURCE_DIR})

# `bitnet serve` driven by the official OpenAI client (npm `openai`, installed by .ci/install-deps.sh;
# skipped with exit 77 when node or the package are not installed).
if(BITNET_SERVE)
  add_test(NAME serve_openai_client COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/serve/test_openai_client.sh
    $<TARGET_FILE:bitnet_cli>)
  set_tests_properties(serve_openai_client PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
if(BITNET_SERVE)
  # The chat page in headless Chromium (Debian `chromium`, in .ci/install-deps.sh); skipped with
  # exit 77 when the browser is absent. The screenshot lands in test-artifacts/.
  add_test(NAME serve_chat_page COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/serve/test_chat_page.sh
    $<TARGET_FILE:bitnet_cli> ${CMAKE_BINARY_DIR}/test-artifacts)
  set_tests_properties(serve_chat_page PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
if(BITNET_SERVE)
  # Three replicas behind HAProxy on loopback, one killed mid-run (skipped with 77 without haproxy).
  find_program(PYTHON3 python3 REQUIRED)
  add_test(NAME serve_haproxy_scale_out COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/serve/test_haproxy.py
    $<TARGET_FILE:bitnet_cli>)
  set_tests_properties(serve_haproxy_scale_out PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()

# `bitnet train` (tools/train): micro training, checkpoint refusals, the default model in models/.
add_test(NAME cli_train COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_train.sh $<TARGET_FILE:bitnet_cli> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli_train PROPERTIES TIMEOUT 300)
