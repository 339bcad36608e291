// Subcommands this build left out because their libraries were missing (tools/CMakeLists.txt
// defines BITNET_UNAVAILABLE_<NAME> for each): they stay listed in `bitnet --help` and say why they
// cannot run, instead of "unknown command". E.g. the Windows cross build (docs/windows.md) has no
// cpp-httplib, OpenBLAS, SentencePiece or nlohmann-json for MinGW in Debian.
#include <cstdio>

#include "command.h"

namespace {

[[maybe_unused]] int explain(const char *name, const char *needs) {
    std::fprintf(stderr, "bitnet %s: not available in this build: it was built without %s\n", name, needs);
    return 1;
}

#if defined(BITNET_UNAVAILABLE_SERVE)
int serve(int, char **) { return explain("serve", "cpp-httplib and nlohmann-json (BITNET_SERVE)"); }
bitnet_cli::CommandRegistration serve_registration("serve", "(not in this build: needs cpp-httplib)", serve);
#endif
#if defined(BITNET_UNAVAILABLE_TRAIN)
int train(int, char **) { return explain("train", "OpenBLAS and SentencePiece (BITNET_TRAIN=OFF)"); }
bitnet_cli::CommandRegistration train_registration("train", "(not in this build: needs OpenBLAS, SentencePiece)", train);
#endif
#if defined(BITNET_UNAVAILABLE_CONVERT)
int convert(int, char **) { return explain("convert", "nlohmann-json and SentencePiece (BITNET_CONVERT=OFF)"); }
bitnet_cli::CommandRegistration convert_registration("convert", "(not in this build: needs nlohmann-json, SentencePiece)",
                                                     convert);
#endif

}  // namespace
