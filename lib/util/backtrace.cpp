#include "util/backtrace.h"

#include "util/error.h"

#if defined(BITNET_HAVE_LIBUNWIND)
#define UNW_LOCAL_ONLY
#include <cxxabi.h>
#include <libunwind.h>

#include <cstdlib>
#endif

namespace bitnet {

#if defined(BITNET_HAVE_LIBUNWIND)
std::string capture_backtrace(int skip) {
    unw_context_t context;
    unw_cursor_t cursor;
    if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) {
        return "  (backtrace unavailable: libunwind could not read the stack)\n";
    }
    std::string out;
    int frame = 0;
    while (unw_step(&cursor) > 0 && frame < 64) {
        if (skip > 0) {
            --skip;
            continue;
        }
        unw_word_t pc = 0, offset = 0;
        unw_get_reg(&cursor, UNW_REG_IP, &pc);
        char name[512];
        std::string symbol = "??";
        if (unw_get_proc_name(&cursor, name, sizeof(name), &offset) == 0) {
            int demangle_status = -1;
            char *demangled = abi::__cxa_demangle(name, nullptr, nullptr, &demangle_status);
            symbol = demangle_status == 0 && demangled ? demangled : name;
            std::free(demangled);
        }
        out += format("  #%d 0x%llx %s+0x%llx\n", frame, static_cast<unsigned long long>(pc),
                      symbol.c_str(), static_cast<unsigned long long>(offset));
        ++frame;
    }
    return out;
}
#else
std::string capture_backtrace(int) { return "  (backtrace unavailable: built without libunwind)\n"; }
#endif

}  // namespace bitnet
