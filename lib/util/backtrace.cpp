#include "util/backtrace.h"

#include "util/error.h"

#if defined(__GLIBC__)
#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdint>
#include <cstdlib>
#elif defined(_WIN32)
#include <windows.h>

#include <cstdint>
#endif

namespace bitnet {

#if defined(__GLIBC__)
namespace {

std::string demangled(const char *name) {
    int status = -1;
    char *text = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string result = status == 0 && text ? text : name;
    std::free(text);
    return result;
}

}  // namespace

std::string capture_backtrace(int skip) {
    constexpr int kMaxFrames = 64;
    void *frames[kMaxFrames];
    const int n = ::backtrace(frames, kMaxFrames);
    if (n <= 0) return "  (backtrace unavailable: the stack could not be walked)\n";
    std::string out;
    int number = 0;
    for (int i = skip; i < n; ++i) {
        const auto pc = reinterpret_cast<uintptr_t>(frames[i]);
        Dl_info info{};
        std::string where = "??";
        if (dladdr(frames[i], &info) != 0 && info.dli_fname) {
            where = format("%s+0x%llx", info.dli_fname,
                           static_cast<unsigned long long>(pc - reinterpret_cast<uintptr_t>(info.dli_fbase)));
            // Only exported symbols are known to dladdr; a static function shows its nearest
            // exported predecessor, so the module offset above is the reliable part.
            if (info.dli_sname && info.dli_saddr) {
                where += format(" (%s+0x%llx)", demangled(info.dli_sname).c_str(),
                                static_cast<unsigned long long>(pc - reinterpret_cast<uintptr_t>(info.dli_saddr)));
            }
        }
        out += format("  #%d 0x%llx %s\n", number++, static_cast<unsigned long long>(pc), where.c_str());
    }
    return out;
}
#elif defined(_WIN32)
// Windows: the frames from CaptureStackBackTrace (kernel32), each as module+offset. Names would
// need DbgHelp and debug information that a release DLL does not carry; `addr2line -e <module>`
// turns an offset back into a line where the module was built with -g.
std::string capture_backtrace(int skip) {
    constexpr int kMaxFrames = 62;  // CaptureStackBackTrace takes fewer than 63 on older Windows
    void *frames[kMaxFrames];
    const USHORT n = CaptureStackBackTrace(0, kMaxFrames, frames, nullptr);
    if (n == 0) return "  (backtrace unavailable: the stack could not be walked)\n";
    std::string out;
    int number = 0;
    for (int i = skip; i < n; ++i) {
        const auto pc = reinterpret_cast<uintptr_t>(frames[i]);
        std::string where = "??";
        HMODULE module = nullptr;
        char name[MAX_PATH];
        if (GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                               static_cast<LPCSTR>(frames[i]), &module) &&
            GetModuleFileNameA(module, name, sizeof name) > 0) {
            where = format("%s+0x%llx", name, static_cast<unsigned long long>(pc - reinterpret_cast<uintptr_t>(module)));
        }
        out += format("  #%d 0x%llx %s\n", number++, static_cast<unsigned long long>(pc), where.c_str());
    }
    return out;
}
#else
std::string capture_backtrace(int) { return "  (backtrace unavailable on this platform)\n"; }
#endif

}  // namespace bitnet
