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

// Every message starts with the public function that failed ("bitnet_state_load_file: cannot
// open ..."), whether the check that failed was in the API layer (which names it already) or in
// the engine below it.
inline std::string message_naming(const char *function, const char *message) {
    const size_t length = std::strlen(function);
    if (std::strncmp(message, function, length) == 0 && message[length] == ':') return message;
    return std::string(function) + ": " + message;
}

template <class Body>
bitnet_status api_guard(const char *function, Body &&body) noexcept {
    try {
        body();
        return BITNET_OK;
    } catch (const Error &error) {
        set_last_error(error.status(), message_naming(function, error.what()));
        if (error.status() == BITNET_ERR_INTERNAL) {
            LOG_ERROR("%s: internal error: %s\nraised at:\n%s", function, error.what(), error.backtrace().c_str());
        }
        return error.status();
    } catch (const std::bad_alloc &) {
        set_last_error(BITNET_ERR_OUT_OF_MEMORY, format("%s: out of memory", function));
        return BITNET_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &error) {
        std::string message = format("%s: internal error: %s", function, error.what());
        set_last_error(BITNET_ERR_INTERNAL, message);
        // Thrown outside the engine's error path (the C++ runtime): the stack where it was thrown is
        // gone, the API boundary's is what is left.
        LOG_ERROR("%s\ncaught at:\n%s", message.c_str(), capture_backtrace().c_str());
        return BITNET_ERR_INTERNAL;
    } catch (...) {
        std::string message = format("%s: internal error: unknown exception", function);
        set_last_error(BITNET_ERR_INTERNAL, message);
        LOG_ERROR("%s\ncaught at:\n%s", message.c_str(), capture_backtrace().c_str());
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

// For queries that answer a failure with a neutral value (0, "", NULL, BITNET_TOKEN_NULL) instead
// of a status (record_failure in util/error.h records it, the caller returns its neutral value):
// true when `pointer` is set; otherwise records "<function>: <name> is NULL" and returns false.
inline bool non_null(const void *pointer, const char *function, const char *name) {
    if (pointer) return true;
    record_failure(BITNET_ERR_INVALID_ARGUMENT, "%s: %s is NULL", function, name);
    return false;
}

// Argument checks shared by entry points.
inline void require_argument(bool condition, const char *function, const char *what) {
    if (!condition) fail(BITNET_ERR_INVALID_ARGUMENT, "%s: %s", function, what);
}

}  // namespace bitnet
