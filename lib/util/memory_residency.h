// Keeping a model's bytes in physical memory: the OS calls behind bitnet_model_params.use_mlock
// and the read-ahead of a mapped file. One small interface so each platform implements it in its
// own file (memory_residency_posix.cpp; a Windows build implements the same three functions with
// PrefetchVirtualMemory and VirtualLock/VirtualUnlock, or as no-ops that report "not supported").
//
// Why (bench/RESULTS.md, "mapped weights"): pages of a file mapping belong to the page cache, which
// the kernel may reclaim at any time (on the measured VMs a DAMON `pageout` scheme does so every
// few hundred ms) and which then fault back in during a decode. Anonymous memory (use_mmap =
// false) is not reclaimed without swap; locked pages are never reclaimed.
#pragma once

#include <cstddef>
#include <string>

namespace bitnet::residency {

// Ask the OS to read [data, data + size) in now, ahead of the first decode. A hint: errors are
// ignored (the pages still fault in on first use).
void prefetch(const void *data, size_t size);

// Pin [data, data + size) in physical memory (mlock), faulting every page in. Returns "" on
// success, else why not (e.g. RLIMIT_MEMLOCK too small, with the limit and what to change);
// nothing stays locked then. The lock ends with unlock() or when the range is unmapped.
std::string lock(const void *data, size_t size);
void unlock(const void *data, size_t size);

}  // namespace bitnet::residency
