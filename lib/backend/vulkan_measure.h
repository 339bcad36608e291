// A device's memory bandwidth, measured with a copy on the device (the portable way: Vulkan reports
// no bandwidth, and memory-type sizes say nothing about speed). Used by bitnet-bench to put the
// decode traffic it achieves against what the device can move. Compiled in every build; without
// Vulkan it reports that it cannot measure.
#pragma once

#include <cstdint>
#include <string>

namespace bitnet {

// Bytes per second moved by vkCmdCopyBuffer between two device-local buffers of `bytes` each on
// Vulkan device `device_index`, counting each copied byte twice (one read, one write), the best of
// `repetitions` timed submits of several copies each. 0 with *problem set when it cannot run.
double vulkan_copy_bandwidth(int32_t device_index, uint64_t bytes, int repetitions, std::string *problem);

}  // namespace bitnet
