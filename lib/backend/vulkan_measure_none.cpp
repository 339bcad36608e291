// vulkan_measure.h in a build without the Vulkan backend.
#if !defined(BITNET_HAVE_VULKAN)
#include "backend/vulkan_measure.h"

namespace bitnet {

double vulkan_copy_bandwidth(int32_t, uint64_t, int, std::string *problem) {
    if (problem) *problem = "this build has no Vulkan backend";
    return 0.0;
}

}  // namespace bitnet
#endif
