// Subcommand registry of the `bitnet` tool. Each cmd_*.cpp registers itself with a static
// CommandRegistration, so adding a subcommand touches one new file only.
#pragma once

#include <string>
#include <vector>

namespace bitnet_cli {

using CommandFunction = int (*)(int argc, char **argv);  // argv[0] is the subcommand name

struct Command {
    const char *name;
    const char *summary;
    CommandFunction run;
};

std::vector<Command> &command_registry();

struct CommandRegistration {
    CommandRegistration(const char *name, const char *summary, CommandFunction run) {
        command_registry().push_back({name, summary, run});
    }
};

// Print "bitnet: <status name>: <last error>" to stderr and return the exit code 1.
int report_failure(const char *what, int status);

}  // namespace bitnet_cli
