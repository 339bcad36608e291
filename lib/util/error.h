// Internal error handling: engine code throws bitnet::Error; the C API boundary (lib/api/guard.h)
// catches every exception and turns it into a status plus the per-thread message.
#pragma once

#include <cstdarg>
#include <exception>
#include <string>

#include "bitnet.h"
#include "util/printf_format.h"

namespace bitnet {

class Error : public std::exception {
public:
    Error(bitnet_status status, std::string message, std::string backtrace = {})
        : status_(status), message_(std::move(message)), backtrace_(std::move(backtrace)) {}
    bitnet_status status() const noexcept { return status_; }
    const char *what() const noexcept override { return message_.c_str(); }
    // The stack where the error was raised (internal errors only, see fail()); "" otherwise.
    const std::string &backtrace() const noexcept { return backtrace_; }

private:
    bitnet_status status_;
    std::string message_;
    std::string backtrace_;
};

// printf-style formatting into a std::string.
std::string format(const char *fmt, ...) BITNET_PRINTF_FORMAT(1, 2);
std::string vformat(const char *fmt, va_list args);

// Throw an Error with a printf-style message. An internal error (BITNET_ERR_INTERNAL, a bug) also
// carries the stack of the failing call, captured here before unwinding loses it.
[[noreturn]] void fail(bitnet_status status, const char *fmt, ...)
    BITNET_PRINTF_FORMAT(2, 3);

// The per-thread message behind bitnet_last_error().
void set_last_error(bitnet_status status, const std::string &message);
const char *last_error();
// set_last_error with a printf-style message, for API queries that report a failure through a
// neutral return value (0, "", NULL) rather than a status: bitnet_last_error() still says why.
void record_failure(bitnet_status status, const char *fmt, ...) BITNET_PRINTF_FORMAT(2, 3);
bitnet_status last_status();

}  // namespace bitnet
