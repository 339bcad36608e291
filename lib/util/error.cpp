#include "util/error.h"

#include "util/backtrace.h"

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
    // Skip capture_backtrace's own frame and this one: the trace starts at the failing caller.
    throw Error(status, std::move(message), status == BITNET_ERR_INTERNAL ? capture_backtrace(2) : std::string());
}

namespace {
thread_local std::string thread_last_error;
thread_local bitnet_status thread_last_status = BITNET_OK;
}  // namespace

void record_failure(bitnet_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string message = vformat(fmt, args);
    va_end(args);
    set_last_error(status, message);
}

void set_last_error(bitnet_status status, const std::string &message) {
    thread_last_error = message;
    thread_last_status = status;
}

const char *last_error() { return thread_last_error.c_str(); }
bitnet_status last_status() { return thread_last_status; }

}  // namespace bitnet
