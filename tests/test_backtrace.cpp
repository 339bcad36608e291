// Internal errors carry the stack of the place that raised them (captured before unwinding), and
// the library leaves exception handling to the toolchain's unwinder: no libunwind in the process.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "api/guard.h"
#include "bitnet.h"
#include "util/error.h"

namespace {

std::vector<std::string> errors_logged;
void remember_errors(bitnet_log_level, const char *message, void *) { errors_logged.emplace_back(message); }

[[gnu::noinline]] void raise_internal_failure() {
    bitnet::fail(BITNET_ERR_INTERNAL, "test: an invariant does not hold");
}

// The frame addresses ("#N 0xPC ...") of the lines after `heading` in a logged report.
std::vector<uintptr_t> frames_after(const std::string &report, const std::string &heading) {
    std::vector<uintptr_t> pcs;
    const size_t start = report.find(heading);
    if (start == std::string::npos) return pcs;
    const std::string tail = report.substr(start);
    const std::regex frame(R"(#\d+ 0x([0-9a-f]+))");
    for (std::sregex_iterator it(tail.begin(), tail.end(), frame), end; it != end; ++it) {
        pcs.push_back(static_cast<uintptr_t>(std::stoull((*it)[1].str(), nullptr, 16)));
    }
    return pcs;
}

TEST(Backtrace, InternalErrorsReportTheStackWhereTheyWereRaised) {
    errors_logged.clear();
    bitnet_set_log_callback(remember_errors, BITNET_LOG_ERROR, nullptr);
    const bitnet_status status = bitnet::api_guard("bitnet_test_call", [] { raise_internal_failure(); });
    bitnet_set_log_callback(nullptr, BITNET_LOG_ERROR, nullptr);
    EXPECT_EQ(status, BITNET_ERR_INTERNAL);
    ASSERT_EQ(errors_logged.size(), 1u);
    const std::string &report = errors_logged[0];
    EXPECT_NE(report.find("bitnet_test_call: internal error: test: an invariant does not hold"), std::string::npos) << report;
    // One frame lies inside raise_internal_failure: the stack was taken before unwinding, which a
    // trace taken in the API boundary's catch handler cannot show.
    const auto begin = reinterpret_cast<uintptr_t>(&raise_internal_failure);
    bool inside = false;
    for (uintptr_t pc : frames_after(report, "raised at:")) inside |= pc > begin && pc < begin + 256;
    EXPECT_TRUE(inside) << report;
}

TEST(Backtrace, ExceptionsStayOnTheToolchainUnwinder) {
    // Raise and report one internal error first: capturing a backtrace must not load an unwinder
    // of its own either.
    bitnet::api_guard("bitnet_test_call", [] { raise_internal_failure(); });
    if (void *raise = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException")) {
        Dl_info info{};
        ASSERT_NE(dladdr(raise, &info), 0);
        EXPECT_EQ(std::string(info.dli_fname ? info.dli_fname : "").find("libunwind"), std::string::npos)
            << "_Unwind_RaiseException resolves to " << info.dli_fname;
    }
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        EXPECT_EQ(line.find("libunwind"), std::string::npos) << "libunwind is mapped: " << line;
    }
}

}  // namespace
