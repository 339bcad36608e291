// POSIX (Linux, macOS) side of memory_residency.h: madvise and mlock.
#if !defined(_WIN32)

#include "util/memory_residency.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace bitnet::residency {

namespace {

// madvise and mlock want a page-aligned start; widen the range down to its page.
void page_range(const void *data, size_t size, void **start, size_t *length) {
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(data);
    const uintptr_t aligned = begin - begin % page;
    *start = reinterpret_cast<void *>(aligned);
    *length = size + (begin - aligned);
}

std::string describe_limit(const char *call, int error, size_t length) {
    char text[512];
    struct rlimit limit;
    if ((error == ENOMEM || error == EPERM || error == EAGAIN) && getrlimit(RLIMIT_MEMLOCK, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY) {
        std::snprintf(text, sizeof text,
                      "%s of %zu bytes failed (%s): RLIMIT_MEMLOCK allows %llu bytes; raise it (`ulimit -l`, "
                      "/etc/security/limits.conf memlock, systemd LimitMEMLOCK=) or grant CAP_IPC_LOCK",
                      call, length, std::strerror(error), static_cast<unsigned long long>(limit.rlim_cur));
    } else {
        std::snprintf(text, sizeof text, "%s of %zu bytes failed: %s", call, length, std::strerror(error));
    }
    return text;
}

}  // namespace

void prefetch(const void *data, size_t size) {
    if (data == nullptr || size == 0) return;
    void *start;
    size_t length;
    page_range(data, size, &start, &length);
    // Start reading the file in the background; the pages still fault in one by one on first use.
    madvise(start, length, MADV_WILLNEED);
}

std::string lock(const void *data, size_t size) {
    if (data == nullptr || size == 0) return "";
    void *start;
    size_t length;
    page_range(data, size, &start, &length);
    // mlock faults every page in and keeps it. The limit is checked before anything is locked, but
    // running out of memory while faulting pages in can leave part of the range locked: undo it.
    if (mlock(start, length) != 0) {
        const int error = errno;
        munlock(start, length);
        return describe_limit("mlock", error, length);
    }
    return "";
}

void unlock(const void *data, size_t size) {
    if (data == nullptr || size == 0) return;
    void *start;
    size_t length;
    page_range(data, size, &start, &length);
    munlock(start, length);
}

}  // namespace bitnet::residency

#endif  // !_WIN32
