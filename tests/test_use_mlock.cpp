// bitnet_model_params.use_mlock: the model's bytes pinned in memory (util/memory_residency.h). A
// lock changes where the pages live, never what the engine computes; a lock the OS refuses
// (RLIMIT_MEMLOCK without CAP_IPC_LOCK, the usual case for an unprivileged user) never fails the
// load: the model runs unlocked and a warning says why.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bitnet.h"
#include "model/model.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

// VmLck of /proc/self/status in KiB: the memory this process has locked.
long locked_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmLck:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

bitnet_model *load(const std::string &path, bool use_mmap, bool use_mlock) {
    bitnet_model_params params = bitnet_model_default_params();
    params.use_mmap = use_mmap;
    params.use_mlock = use_mlock;
    bitnet_model *model = nullptr;
    EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_OK) << bitnet_last_error();
    return model;
}

std::string g_warnings;
void collect_warnings(bitnet_log_level level, const char *text, void *) {
    if (level == BITNET_LOG_WARN) g_warnings += text;
}

TEST(UseMlock, IsOffByDefault) { EXPECT_FALSE(bitnet_model_default_params().use_mlock); }

TEST(UseMlock, LockedModelsComputeWhatUnlockedOnesDo) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    bitnet_test::ModelPtr plain(load(path, true, false));
    ASSERT_TRUE(plain);
    const std::vector<int> tokens = {1, 5, 9, 2, 7};
    bitnet_test::RunOptions options;
    const auto want = bitnet_test::engine_logits(plain.get(), tokens, options);
    for (const bool use_mmap : {true, false}) {
        SCOPED_TRACE(use_mmap ? "mapped" : "read into memory");
        const long before = locked_kib();
        bitnet_test::ModelPtr locked(load(path, use_mmap, true));
        ASSERT_TRUE(locked);
        if (!locked->mapping.locked()) {
            // Possible only where this test runs without CAP_IPC_LOCK and with a small memlock limit.
            struct rlimit limit;
            getrlimit(RLIMIT_MEMLOCK, &limit);
            ASSERT_LT(limit.rlim_cur, locked->mapping.size()) << "the lock failed although the limit allows it";
            std::printf("[ skipped  ] lock itself: RLIMIT_MEMLOCK %llu bytes < the file's %zu bytes and no CAP_IPC_LOCK\n",
                        static_cast<unsigned long long>(limit.rlim_cur), locked->mapping.size());
        } else {
            // Every page of the file is locked: VmLck grew by the file's size (page-rounded).
            EXPECT_GE(locked_kib() - before, static_cast<long>(locked->mapping.size() / 1024));
        }
        const auto got = bitnet_test::engine_logits(locked.get(), tokens, options);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "position " << i;
        locked.reset();
        EXPECT_EQ(locked_kib(), before) << "freeing the model must end its lock";
    }
}

// In a child process without CAP_IPC_LOCK and with RLIMIT_MEMLOCK 0, mlock fails: the load must
// succeed, unlocked, with a warning naming the limit, and the model must decode. Exit codes say
// which step failed.
[[noreturn]] void load_with_a_refused_lock(const std::string &path) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) _exit(10);
    data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
    data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
    if (syscall(SYS_capset, &header, data) != 0) _exit(11);
    const struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_MEMLOCK, &none) != 0) _exit(12);
    bitnet_set_log_callback(collect_warnings, BITNET_LOG_WARN, nullptr);
    bitnet_model_params params = bitnet_model_default_params();
    params.use_mlock = true;
    bitnet_model *model = nullptr;
    if (bitnet_model_load_file(path.c_str(), &params, &model) != BITNET_OK) _exit(13);
    if (model->mapping.locked()) _exit(14);
    if (g_warnings.find("RLIMIT_MEMLOCK") == std::string::npos) _exit(15);
    bitnet_test::RunOptions options;
    if (bitnet_test::engine_logits(model, {1, 5, 9}, options).size() != 3) _exit(16);
    std::fprintf(stderr, "warned: %s\n", g_warnings.c_str());
    bitnet_model_free(model);
    _exit(0);
}

TEST(UseMlockDeathTest, ARefusedLockWarnsAndLoadsAnyway) {
    const std::string path = bitnet_test::synthetic_model("tiny", "i2_s");
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(load_with_a_refused_lock(path), ::testing::ExitedWithCode(0), "warned: .*use_mlock.*RLIMIT_MEMLOCK");
}

}  // namespace
