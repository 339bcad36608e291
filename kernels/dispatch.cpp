// Choosing the kernel table: once per process, from cpuid (AT_HWCAP on AArch64), unless
// BITNET_ISA names a variant.
// This file is compiled without ISA flags; it only calls the ISA tables' accessor functions.
#include <cstdlib>
#include <cstring>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#if defined(BITNET_HAVE_NEON_KERNELS)
#include "kernels/neon/neon_kernels.h"
#endif
#include "util/log.h"

namespace bitnet {
namespace {

// Compiled-in variants, worst first; each with the test that says whether this CPU can run it.
struct Variant {
    const char *name;
    const KernelTable &(*table)();
    bool (*runs)(const CpuFeatures &);
};

bool always(const CpuFeatures &) { return true; }

constexpr Variant kVariants[] = {
    {"scalar", scalar_kernels, always},
#if defined(BITNET_HAVE_AVX2_KERNELS)
    {"avx2", avx2_kernels, cpu_runs_avx2_kernels},
#endif
#if defined(BITNET_HAVE_AVX512_KERNELS)
    {"avx512", avx512_kernels, cpu_runs_avx512_kernels},
#endif
#if defined(BITNET_HAVE_NEON_KERNELS)
    {"neon", neon_kernels, cpu_runs_neon_kernels},
    {"neon_dotprod", neon_dotprod_kernels, cpu_runs_neon_dotprod_kernels},
#endif
};

const KernelTable &best_kernels() {
    const KernelTable *best = &scalar_kernels();
    for (const Variant &variant : kVariants) {
        if (variant.runs(cpu_features())) best = &variant.table();
    }
    return *best;
}

}  // namespace

const KernelTable *cpu_kernels_named(const char *name) {
    if (name == nullptr) return nullptr;
    for (const Variant &variant : kVariants) {
        if (std::strcmp(variant.name, name) == 0) {
            return variant.runs(cpu_features()) ? &variant.table() : nullptr;
        }
    }
    return nullptr;
}

size_t available_cpu_kernels(const KernelTable **out, size_t capacity) {
    size_t count = 0;
    for (const Variant &variant : kVariants) {
        if (!variant.runs(cpu_features())) continue;
        if (count < capacity) out[count] = &variant.table();
        ++count;
    }
    return count;
}

const KernelTable &choose_cpu_kernels(const char *requested) {
    const KernelTable &best = best_kernels();
    if (requested == nullptr || requested[0] == '\0' || std::strcmp(requested, "auto") == 0) return best;
    if (const KernelTable *named = cpu_kernels_named(requested)) return *named;
    LOG_WARN("BITNET_ISA=%s: not a kernel variant this build and CPU can run (cpu: %s); using %s", requested,
             describe_cpu_features(cpu_features()).c_str(), best.name);
    return best;
}

const KernelTable &cpu_kernels() {
    static const KernelTable &chosen = choose_cpu_kernels(std::getenv("BITNET_ISA"));
    return chosen;
}

}  // namespace bitnet
