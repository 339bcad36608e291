#include "api/build_info.h"

#include "bitnet.h"
#include "kernels/kernels.h"
#if defined(BITNET_HAVE_VULKAN)
#include "backend/vulkan/vulkan_api.h"
#endif

namespace bitnet {
namespace {

std::string compiled_in() {
    std::string info = "bitnet " BITNET_VERSION_STRING "; compiler " BITNET_COMPILER;
#if defined(BITNET_HAVE_OPENMP)
    info += "; threads openmp";
#else
    info += "; threads std::thread";
#endif
    info += "; cpu kernels scalar";
#if defined(BITNET_HAVE_AVX2_KERNELS)
    info += ",avx2";
#endif
#if defined(BITNET_HAVE_AVX512_KERNELS)
    info += ",avx512";
#endif
#if defined(BITNET_HAVE_NEON_KERNELS)
    info += ",neon,neon_dotprod";
#endif
    return info;
}

}  // namespace

bool built_with_vulkan() {
#if defined(BITNET_HAVE_VULKAN)
    return true;
#else
    return false;
#endif
}

std::string describe_build() {
    // Built on first use: selecting the CPU kernels reads cpuid (and $BITNET_ISA), and listing the
    // Vulkan devices opens the loader and an instance once (vulkan_availability() keeps the result;
    // without a loader or a driver it is an explanation, never an error). Both are cached for the
    // process, so later calls cost nothing; the static's initialisation is thread-safe.
    static const std::string info = [] {
        std::string text = compiled_in();
        text += " (using ";
        text += cpu_kernels().name;
        text += ")";
#if defined(BITNET_HAVE_VULKAN)
        text += "; backends cpu,vulkan; vulkan devices: ";
        const VulkanAvailability &vulkan = vulkan_availability();
        if (vulkan.devices.empty()) {
            text += "none (" + vulkan.problem + ")";
        }
        for (size_t i = 0; i < vulkan.devices.size(); ++i) {
            if (i) text += ", ";
            text += std::to_string(i) + " = " + vulkan.devices[i].name + " (" + vulkan.devices[i].type + ")";
        }
#else
        text += "; backends cpu";
#endif
        return text;
    }();
    return info;
}

}  // namespace bitnet
