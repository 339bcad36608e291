// parallel_for_balanced (lib/util/parallel.h): every item runs exactly once, in contiguous shares,
// and the shares follow the cost, whatever the thread count and the cost profile.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

// The engine compiles parallel.h with BITNET_HAVE_OPENMP when it uses OpenMP (a private definition
// of the library); this program gets OpenMP's flags through the library's link interface.
#if defined(_OPENMP) && !defined(BITNET_HAVE_OPENMP)
#define BITNET_HAVE_OPENMP
#endif
#include "util/parallel.h"

namespace {

struct Share {
    int64_t begin, end;
};

// The shares each of `threads` gets for `costs` (cost of item i), in thread order.
std::vector<Share> shares_for(int threads, const std::vector<int64_t> &costs) {
    std::vector<int64_t> cost_before(costs.size() + 1, 0);
    for (size_t i = 0; i < costs.size(); ++i) cost_before[i + 1] = cost_before[i] + costs[i];
    std::vector<Share> shares(static_cast<size_t>(threads), Share{-1, -1});
    std::vector<std::atomic<int>> runs(costs.size());
    std::mutex lock;
    bitnet::parallel_for_balanced(threads, static_cast<int64_t>(costs.size()), cost_before.data(),
                                  [&](int64_t begin, int64_t end, int thread) {
                                      for (int64_t i = begin; i < end; ++i) ++runs[static_cast<size_t>(i)];
                                      std::lock_guard<std::mutex> hold(lock);
                                      shares[static_cast<size_t>(thread)] = {begin, end};
                                  });
    for (size_t i = 0; i < costs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "item " << i;
    return shares;
}

TEST(ParallelForBalanced, EveryItemRunsOnceInContiguousShares) {
    const std::vector<std::vector<int64_t>> profiles = {
        {},                              // nothing to do
        {5},                             // fewer items than threads
        {0, 0, 0, 0, 0},                 // all free
        {1, 1, 1, 1, 1, 1, 1},           // even
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, // growing, as causal attention
        {100, 0, 0, 0, 0, 0, 0, 1},      // one item holds almost everything
    };
    for (int threads = 1; threads <= 4; ++threads) {
        for (const auto &costs : profiles) {
            const std::vector<Share> shares = shares_for(threads, costs);
            int64_t next = 0;
            for (const Share &s : shares) {
                if (s.begin < 0) continue;  // a thread with an empty share is not called
                EXPECT_EQ(s.begin, next) << threads << " threads";
                EXPECT_LT(s.begin, s.end);
                next = s.end;
            }
            EXPECT_EQ(next, static_cast<int64_t>(costs.size())) << threads << " threads";
        }
    }
}

TEST(ParallelForBalanced, SharesFollowTheCostNotTheCount) {
#if defined(BITNET_HAVE_OPENMP)
    // Costs 1..16: an even split by count would give the first of two threads 36 of 136.
    std::vector<int64_t> costs;
    for (int64_t i = 1; i <= 16; ++i) costs.push_back(i);
    const std::vector<Share> shares = shares_for(2, costs);
    ASSERT_GE(shares[0].begin, 0);
    int64_t first_cost = 0;
    for (int64_t i = shares[0].begin; i < shares[0].end; ++i) first_cost += costs[static_cast<size_t>(i)];
    EXPECT_GE(first_cost, 136 / 2 - 16);
    EXPECT_LE(first_cost, 136 / 2 + 16);
    EXPECT_GT(shares[0].end, 8);  // more than half the items go to the thread with the cheap ones
#else
    GTEST_SKIP() << "skipped: built without OpenMP, one thread takes every item";
#endif
}

}  // namespace
