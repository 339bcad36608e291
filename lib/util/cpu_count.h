// How many CPUs this process may run on: the default thread count of a context.
#pragma once

#include <cstdint>

namespace bitnet {

// Linux: the CPUs in the process's affinity mask (taskset, cgroups' cpusets), which can be fewer
// than the machine has. Windows: the CPUs in the process affinity mask (its processor group).
// Elsewhere std::thread::hardware_concurrency(). At least 1.
int32_t available_cpus();

}  // namespace bitnet
