#include "util/error.h"

#include <cstdio>
#include <vector>

namespace bitnet {

std::string vformat(const char *fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int needed = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (needed <= 0) return std::string();
    std::string out(static_cast<size_t>(needed), '\0');
    std::vsnprintf(out.data(), out.size() + 1, fmt, args);
    return out;
}

std::string format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string out = vformat(fmt, args);
    va_end(args);
    return out;
}

void fail(bitnet_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string message = vformat(fmt, args);
    va_end(args);
    throw Error(status, std::move(message));
}

namespace {
thread_local std::string thread_last_error;
}

void set_last_error(bitnet_status status, const std::string &message) {
    (void)status;
    thread_last_error = message;
}

const char *last_error() { return thread_last_error.c_str(); }

}  // namespace bitnet
