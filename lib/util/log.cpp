#include "util/log.h"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

#include "util/c_enum.h"
#include "util/error.h"

namespace bitnet {
namespace {

std::mutex log_mutex;
bitnet_log_callback log_callback = nullptr;
void *log_user_data = nullptr;
// Read without the lock on the hot path: a stale value only costs one formatted message.
std::atomic<int> log_max_level{-1};

}  // namespace

bool log_enabled(bitnet_log_level level) {
    return static_cast<int>(level) <= log_max_level.load(std::memory_order_relaxed);
}

void log_message(bitnet_log_level level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string message = vformat(fmt, args);
    va_end(args);
    std::lock_guard<std::mutex> lock(log_mutex);
    if (log_callback && static_cast<int>(level) <= log_max_level.load()) {
        log_callback(level, message.c_str(), log_user_data);
    }
}

}  // namespace bitnet

extern "C" {

BITNET_API void bitnet_set_log_callback(bitnet_log_callback callback, bitnet_log_level max_level,
                                        void *user_data) {
    std::lock_guard<std::mutex> lock(bitnet::log_mutex);
    bitnet::log_callback = callback;
    bitnet::log_user_data = user_data;
    // Any int may arrive from C (util/c_enum.h): levels above DEBUG mean "everything", below
    // ERROR "nothing", so a caller's out-of-range value still means what it says.
    const int level = std::clamp(bitnet::c_enum_bits(max_level), -1, static_cast<int>(BITNET_LOG_DEBUG));
    bitnet::log_max_level.store(callback ? level : -1);
}

BITNET_API void bitnet_log_to_stderr(bitnet_log_level level, const char *message, void *user_data) {
    (void)user_data;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const int bits = bitnet::c_enum_bits(level);
    const char *name = bitnet::c_enum_in_range(level, BITNET_LOG_ERROR, BITNET_LOG_DEBUG) ? names[bits] : "log";
    std::fprintf(stderr, "bitnet: %s: %s\n", name, message ? message : "");
}

}  // extern "C"
