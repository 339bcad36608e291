// The C API boundary: every exported function runs its body through api_guard so that no C++
// exception crosses into the caller, and every failure leaves a per-thread message.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "util/backtrace.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {

template <class Body>
bitnet_status api_guard(const char *function, Body &&body) noexcept {
    try {
        body();
        return BITNET_OK;
    } catch (const Error &error) {
        set_last_error(error.status(), error.what());
        if (error.status() == BITNET_ERR_INTERNAL) {
            LOG_ERROR("%s: internal error: %s\n%s", function, error.what(), capture_backtrace().c_str());
        }
        return error.status();
    } catch (const std::bad_alloc &) {
        set_last_error(BITNET_ERR_OUT_OF_MEMORY, format("%s: out of memory", function));
        return BITNET_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &error) {
        std::string message = format("%s: internal error: %s", function, error.what());
        set_last_error(BITNET_ERR_INTERNAL, message);
        LOG_ERROR("%s\n%s", message.c_str(), capture_backtrace().c_str());
        return BITNET_ERR_INTERNAL;
    } catch (...) {
        std::string message = format("%s: internal error: unknown exception", function);
        set_last_error(BITNET_ERR_INTERNAL, message);
        LOG_ERROR("%s\n%s", message.c_str(), capture_backtrace().c_str());
        return BITNET_ERR_INTERNAL;
    }
}

// snprintf-style text output: as much of `text` as fits in `capacity` bytes with a NUL, nothing
// when capacity is 0. Returns the full length, so a caller can size a second try.
inline int64_t copy_text_out(const std::string &text, char *buf, size_t capacity) {
    if (capacity > 0) {
        const size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
        std::memcpy(buf, text.data(), n);
        buf[n] = '\0';
    }
    return static_cast<int64_t>(text.size());
}

// Argument checks shared by entry points.
inline void require_argument(bool condition, const char *function, const char *what) {
    if (!condition) fail(BITNET_ERR_INVALID_ARGUMENT, "%s: %s", function, what);
}

}  // namespace bitnet
