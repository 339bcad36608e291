// Running a child process in tests: this test program again (to start from a fresh process) or a
// built tool, with stdout and stderr sent to files.
#pragma once

#include <string>
#include <vector>

namespace bitnet_test {

// The path of the running executable.
std::string self_executable();

// Run `argv` (argv[0] is the program's path) with `extra_env` ("NAME=value") added to this
// process's environment, stdout and stderr written to the given files ("" = /dev/null). Returns
// the exit status, 128 + the signal number when it was killed, or -1 when it could not start.
int run_process(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env,
                const std::string &stdout_path, const std::string &stderr_path);

}  // namespace bitnet_test
