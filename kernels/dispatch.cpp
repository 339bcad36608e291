// Choosing the kernel table: once per process, from cpuid (AT_HWCAP on ARM), unless
// BITNET_ISA names a variant.
// This file is compiled without ISA flags; it only calls the ISA tables' accessor functions.
#include <array>
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
#if defined(__aarch64__)
    {"neon_dotprod", neon_dotprod_kernels, cpu_runs_neon_dotprod_kernels},
#endif
#endif
};

constexpr size_t kVariantCount = sizeof kVariants / sizeof kVariants[0];

// The table of variant `index` with its null slots filled from the scalar one, built once for
// every variant this CPU runs (an ISA accessor is only called when the CPU can run that ISA).
const KernelTable &completed_table(size_t index) {
    static const std::array<KernelTable, kVariantCount> tables = [] {
        std::array<KernelTable, kVariantCount> completed{};
        for (size_t i = 0; i < kVariantCount; ++i) {
            if (kVariants[i].runs(cpu_features())) completed[i] = complete_kernel_table(kVariants[i].table());
        }
        return completed;
    }();
    return tables[index];
}

const KernelTable &best_kernels() {
    const KernelTable *best = &completed_table(0);  // scalar
    for (size_t i = 0; i < kVariantCount; ++i) {
        if (kVariants[i].runs(cpu_features())) best = &completed_table(i);
    }
    return *best;
}

// `slot` = `fallback` where it is null.
template <class Slot>
void fill(Slot &slot, Slot fallback) {
    if (slot == nullptr) slot = fallback;
}

}  // namespace

// A slot added to KernelTable needs its line below.
static_assert(sizeof(KernelTable) == 13 * sizeof(void *), "complete_kernel_table must fill every slot");

KernelTable complete_kernel_table(const KernelTable &partial) {
    const KernelTable &scalar = scalar_kernels();
    KernelTable table = partial;
    fill(table.name, scalar.name);
    fill(table.quantize_activations, scalar.quantize_activations);
    for (size_t layout = 0; layout < kTernaryLayoutCount; ++layout) {
        fill(table.gemm_ternary[layout], scalar.gemm_ternary[layout]);
    }
    fill(table.dot_f32, scalar.dot_f32);
    fill(table.gemm_float, scalar.gemm_float);
    fill(table.attention_scores, scalar.attention_scores);
    fill(table.attention_values, scalar.attention_values);
    fill(table.rms_norm, scalar.rms_norm);
    fill(table.gated_activation, scalar.gated_activation);
    fill(table.softmax, scalar.softmax);
    fill(table.gemm_head_a8, scalar.gemm_head_a8);
    return table;
}

const KernelTable *cpu_kernels_named(const char *name) {
    if (name == nullptr) return nullptr;
    for (size_t i = 0; i < kVariantCount; ++i) {
        if (std::strcmp(kVariants[i].name, name) == 0) {
            return kVariants[i].runs(cpu_features()) ? &completed_table(i) : nullptr;
        }
    }
    return nullptr;
}

size_t available_cpu_kernels(const KernelTable **out, size_t capacity) {
    size_t count = 0;
    for (size_t i = 0; i < kVariantCount; ++i) {
        if (!kVariants[i].runs(cpu_features())) continue;
        if (count < capacity) out[count] = &completed_table(i);
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

KernelTable float_activation_kernels(const KernelTable &chosen) {
    const KernelTable &scalar = scalar_kernels();
    KernelTable table = chosen;
    table.attention_scores = scalar.attention_scores;
    table.attention_values = scalar.attention_values;
    table.rms_norm = scalar.rms_norm;
    table.gated_activation = scalar.gated_activation;
    table.softmax = scalar.softmax;
    return table;
}

}  // namespace bitnet
