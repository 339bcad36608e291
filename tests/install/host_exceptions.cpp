// A C++ host program linked with libbitnet (shared or static, through pkg-config): its own
// exceptions must keep working on the toolchain's unwinder. The library must not bring a second
// unwinder (such as libunwind, whose _Unwind_* symbols would take over every throw in the
// process) into the program.
#include <dlfcn.h>

#include <bitnet.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

[[gnu::noinline]] void throw_at_depth(int depth) {
    if (depth == 0) throw std::runtime_error("host exception");
    throw_at_depth(depth - 1);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: host_exceptions MODEL.gguf\n");
        return 2;
    }
    bitnet_model *model = nullptr;
    if (bitnet_model_load_file(argv[1], nullptr, &model) != BITNET_OK) {
        std::fprintf(stderr, "load failed: %s\n", bitnet_last_error());
        return 1;
    }
    int caught = 0;
    for (int i = 0; i < 1000; ++i) {
        try {
            throw_at_depth(i % 16);
        } catch (const std::runtime_error &error) {
            caught += std::string(error.what()) == "host exception";
        }
    }
    bitnet_model_free(model);
    if (caught != 1000) {
        std::fprintf(stderr, "caught %d of 1000 exceptions\n", caught);
        return 1;
    }
    // Where the process resolves the unwinder's entry point (absent from the dynamic symbols when
    // the toolchain's unwinder is linked statically into the program, which is fine too).
    if (void *raise = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException")) {
        Dl_info info{};
        if (dladdr(raise, &info) && info.dli_fname && std::string(info.dli_fname).find("libunwind") != std::string::npos) {
            std::fprintf(stderr, "_Unwind_RaiseException resolves to %s\n", info.dli_fname);
            return 1;
        }
    }
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        if (line.find("libunwind") != std::string::npos) {
            std::fprintf(stderr, "libunwind is loaded: %s\n", line.c_str());
            return 1;
        }
    }
    std::printf("ok\n");
    return 0;
}
