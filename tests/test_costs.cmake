# Which tests run longest, so that `ctest -j` starts them first (the COST property: ctest runs the
# tests in descending order of cost). Without it a fresh machine (CI: no Testing/Temporary/
# CTestCostData.txt yet) runs them in definition order, and the script tests, defined last and
# among the longest, start at the end while the other cores idle. Nothing is skipped or shortened.
# Seconds from a Release CI run's ctest on 2 cores (GCC; clang alike); refresh when they change.

# GoogleTest programs with a long case (the COST goes to every case of the program):
#   test_train: Train.OverfitsTwoKilobytesBelowOneTenthOfANatPerToken, ~41 s;
#   test_speculative: Backends/SpeculativeGreedy.OutputIsPlainGreedyForBothDraftSources/Vulkan, ~37 s.
set(BITNET_LONG_TEST_PROGRAMS test_train test_speculative)

# Script tests of ~5 s or more: layout_public_api_only ~25 s, install_and_link ~20 s,
# cli_generation ~16 s, binding_rust 7-11 s, cli_vulkan ~11 s, serve_chat_page ~8 s,
# serve_haproxy_scale_out ~5 s, cli_end_to_end ~5 s.
function(bitnet_set_long_script_test_costs)
  foreach(entry layout_public_api_only:25 install_and_link:20 cli_generation:16 binding_rust:11
      cli_vulkan:11 serve_chat_page:8 serve_haproxy_scale_out:5 cli_end_to_end:5)
    string(REPLACE ":" ";" entry "${entry}")
    list(GET entry 0 test_name)
    list(GET entry 1 seconds)
    if(TEST ${test_name})  # absent where its tool or binding is not built
      set_tests_properties(${test_name} PROPERTIES COST ${seconds})
    endif()
  endforeach()
endfunction()
