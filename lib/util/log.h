// Process-wide logging behind bitnet_set_log_callback(). Quiet until a callback is installed.
#pragma once

#include "bitnet.h"
#include "util/printf_format.h"

namespace bitnet {

bool log_enabled(bitnet_log_level level);
void log_message(bitnet_log_level level, const char *fmt, ...) BITNET_PRINTF_FORMAT(2, 3);

}  // namespace bitnet

#define BITNET_LOG_AT(level, ...)                                         \
    do {                                                                  \
        if (::bitnet::log_enabled(level)) ::bitnet::log_message(level, __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(...) BITNET_LOG_AT(BITNET_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) BITNET_LOG_AT(BITNET_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) BITNET_LOG_AT(BITNET_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) BITNET_LOG_AT(BITNET_LOG_DEBUG, __VA_ARGS__)
