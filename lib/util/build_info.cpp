#include "util/build_info.h"

#include "bitnet.h"

namespace bitnet {

std::string describe_build() {
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
    info += ",neon";
#endif
#if defined(BITNET_HAVE_VULKAN)
    info += "; backends cpu,vulkan";
#else
    info += "; backends cpu";
#endif
    return info;
}

}  // namespace bitnet
