// Windows side of memory_residency.h: VirtualLock/VirtualUnlock. Prefetch is a no-op here (the
// pages fault in on first use); PrefetchVirtualMemory would need Windows 8 headers and a view
// of the whole range, which MinGW's default target does not promise.
#include "util/memory_residency.h"

#include <windows.h>

#include <cstdio>

namespace bitnet::residency {

void prefetch(const void *, size_t) {}

std::string lock(const void *data, size_t size) {
    if (size == 0) return "";
    // VirtualLock is bounded by the process's minimum working set
    // (https://learn.microsoft.com/windows/win32/api/memoryapi/nf-memoryapi-virtuallock): raise it to
    // cover the range first, keeping a margin for the rest of the process.
    SIZE_T minimum = 0, maximum = 0;
    HANDLE process = GetCurrentProcess();
    if (GetProcessWorkingSetSize(process, &minimum, &maximum)) {
        const SIZE_T margin = SIZE_T(64) << 20;
        SetProcessWorkingSetSize(process, minimum + size + margin, maximum + size + margin);
    }
    if (VirtualLock(const_cast<void *>(data), size)) return "";
    char why[160];
    std::snprintf(why, sizeof why, "VirtualLock of %zu bytes failed (Windows error %lu): the working set limit is too small",
                  size, static_cast<unsigned long>(GetLastError()));
    return why;
}

void unlock(const void *data, size_t size) {
    if (size != 0) VirtualUnlock(const_cast<void *>(data), size);
}

}  // namespace bitnet::residency
