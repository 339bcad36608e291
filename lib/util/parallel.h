// Static work splitting over OpenMP threads (or inline when built without OpenMP). The body gets
// a contiguous [begin, end) share and its thread index; it must not throw.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(BITNET_HAVE_OPENMP)
#include <omp.h>
#endif

namespace bitnet {

// Split [0, n) into shares that are multiples of `grain` (except the last) across `n_threads`.
template <class Body>
void parallel_for(int n_threads, int64_t n, int64_t grain, Body &&body) {
    if (n <= 0) return;
    const int64_t chunks = (n + grain - 1) / grain;
#if defined(BITNET_HAVE_OPENMP)
    const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n_threads, chunks)));
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            const int thread = omp_get_thread_num();
            const int count = omp_get_num_threads();
            const int64_t first_chunk = chunks * thread / count;
            const int64_t last_chunk = chunks * (thread + 1) / count;
            const int64_t begin = first_chunk * grain;
            const int64_t end = std::min(n, last_chunk * grain);
            if (begin < end) body(begin, end, thread);
        }
        return;
    }
#else
    (void)n_threads;  // without OpenMP the caller's thread does all the work
    (void)chunks;
#endif
    body(int64_t(0), n, 0);
}

// Split items [0, n) into contiguous shares of about equal cost across `n_threads`, where
// cost_before[i] is the summed cost of items [0, i) (n + 1 entries, non-decreasing). For work whose
// cost grows along the range (causal attention: later query blocks see more cells), an even split
// by count would leave the first threads idle while the last finish.
template <class Body>
void parallel_for_balanced(int n_threads, int64_t n, const int64_t *cost_before, Body &&body) {
    if (n <= 0) return;
#if defined(BITNET_HAVE_OPENMP)
    const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n_threads, n)));
    if (threads > 1) {
        const int64_t total = cost_before[n];
        // The first item whose cost starts at or after `share` of the total.
        const auto boundary = [&](int share, int count) -> int64_t {
            if (share == 0) return 0;
            if (share == count) return n;
            const int64_t target = total * share / count;
            return std::lower_bound(cost_before, cost_before + n + 1, target) - cost_before;
        };
#pragma omp parallel num_threads(threads)
        {
            const int thread = omp_get_thread_num();
            const int count = omp_get_num_threads();
            const int64_t begin = boundary(thread, count);
            const int64_t end = boundary(thread + 1, count);
            if (begin < end) body(begin, end, thread);
        }
        return;
    }
#else
    (void)n_threads;
    (void)cost_before;
#endif
    body(int64_t(0), n, 0);
}

}  // namespace bitnet
