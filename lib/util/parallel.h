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
#endif
    body(int64_t(0), n, 0);
}

}  // namespace bitnet
