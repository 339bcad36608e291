// bitnet: the command-line tool. `bitnet help` lists the subcommands.
#include <cstdio>
#include <cstring>

#include "bitnet.h"
#include "command.h"

namespace bitnet_cli {

std::vector<Command> &command_registry() {
    static std::vector<Command> commands;
    return commands;
}

int report_failure(const char *what, int status) {
    std::fprintf(stderr, "bitnet: %s: %s: %s\n", what, bitnet_status_string(static_cast<bitnet_status>(status)),
                 bitnet_last_error());
    return 1;
}

}  // namespace bitnet_cli

static void print_usage() {
    std::fprintf(stderr, "usage: bitnet <command> [options]\n\ncommands:\n");
    for (const auto &command : bitnet_cli::command_registry()) {
        std::fprintf(stderr, "  %-10s %s\n", command.name, command.summary);
    }
    std::fprintf(stderr, "\nbitnet %s (%s)\n", bitnet_version(), bitnet_build_info());
}

int main(int argc, char **argv) {
    if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        print_usage();
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("bitnet %s\n%s\n", bitnet_version(), bitnet_build_info());
        return 0;
    }
    for (const auto &command : bitnet_cli::command_registry()) {
        if (!std::strcmp(argv[1], command.name)) return command.run(argc - 1, argv + 1);
    }
    std::fprintf(stderr, "bitnet: unknown command '%s'\n\n", argv[1]);
    print_usage();
    return 2;
}
