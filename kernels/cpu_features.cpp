#include "kernels/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)  // linux/arch/arm64/include/uapi/asm/hwcap.h
#endif
#endif
#if defined(__arm__) && defined(__linux__)
#include <sys/auxv.h>
// linux/arch/arm/include/uapi/asm/hwcap.h (also in glibc's bits/hwcap.h as HWCAP_ARM_*)
#ifndef HWCAP_NEON
#define HWCAP_NEON (1UL << 12)
#endif
#ifndef HWCAP_VFPv4
#define HWCAP_VFPv4 (1UL << 16)
#endif
#endif
#include <cstdint>

namespace bitnet {
namespace {

#if defined(__x86_64__) || defined(__i386__)

// xgetbv through its encoding so that this file needs no -mxsave; only called when cpuid says
// OSXSAVE (the OS enabled XGETBV).
uint64_t read_xcr0() {
    uint32_t eax = 0, edx = 0;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
    CpuFeatures f;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return f;
    const unsigned max_leaf = eax;
    if (max_leaf < 1) return f;

    __cpuid(1, eax, ebx, ecx, edx);
    f.fma = (ecx >> 12) & 1;
    f.f16c = (ecx >> 29) & 1;
    const bool osxsave = (ecx >> 27) & 1;
    const bool avx = (ecx >> 28) & 1;
    if (osxsave && avx) {
        const uint64_t xcr0 = read_xcr0();
        f.os_saves_ymm = (xcr0 & 0x6) == 0x6;    // bit 1 SSE, bit 2 AVX
        f.os_saves_zmm = (xcr0 & 0xe6) == 0xe6;  // plus bit 5 opmask, 6 ZMM_Hi256, 7 Hi16_ZMM
    }

    if (max_leaf >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        f.avx2 = (ebx >> 5) & 1;
        f.bmi2 = (ebx >> 8) & 1;
        f.avx512f = (ebx >> 16) & 1;
        f.avx512dq = (ebx >> 17) & 1;
        f.avx512bw = (ebx >> 30) & 1;
        f.avx512vl = (ebx >> 31) & 1;
        f.avx512vbmi = (ecx >> 1) & 1;
        f.avx512vnni = (ecx >> 11) & 1;
    }
    return f;
}

#elif defined(__aarch64__)

// Advanced SIMD is part of the AArch64 base ISA (every Linux AArch64 system has it); dotprod is
// optional and reported by the kernel.
CpuFeatures detect() {
    CpuFeatures f;
    f.neon = true;
#if defined(__linux__)
    f.neon_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    return f;
}

#elif defined(__arm__)

// 32-bit ARM: NEON is optional (ARMv7-A profiles without it exist, e.g. Cortex-A9 variants, and
// Debian's armhf baseline is VFPv3-D16 only), and the NEON kernels also use VFPv4's fused
// multiply-add (VFMA): both come from the kernel's hardware capability bits.
CpuFeatures detect() {
    CpuFeatures f;
#if defined(__linux__)
    const unsigned long hwcap = getauxval(AT_HWCAP);
    f.neon = (hwcap & HWCAP_NEON) != 0;
    f.vfpv4 = (hwcap & HWCAP_VFPv4) != 0;
#endif
    return f;
}

#else

CpuFeatures detect() { return CpuFeatures{}; }

#endif

}  // namespace

const CpuFeatures &cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

bool cpu_runs_avx2_kernels(const CpuFeatures &f) { return f.os_saves_ymm && f.avx2 && f.fma && f.f16c && f.bmi2; }

bool cpu_runs_avx512_kernels(const CpuFeatures &f) {
    return cpu_runs_avx2_kernels(f) && f.os_saves_zmm && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq &&
           f.avx512vnni && f.avx512vbmi;
}

#if defined(__arm__)
bool cpu_runs_neon_kernels(const CpuFeatures &f) { return f.neon && f.vfpv4; }  // built with -mfpu=neon-vfpv4
#else
bool cpu_runs_neon_kernels(const CpuFeatures &f) { return f.neon; }
#endif

bool cpu_runs_neon_dotprod_kernels(const CpuFeatures &f) { return f.neon && f.neon_dotprod; }

std::string describe_cpu_features(const CpuFeatures &f) {
    std::string out;
    auto add = [&out](bool present, const char *name) {
        if (!present) return;
        if (!out.empty()) out += ' ';
        out += name;
    };
    add(f.avx2, "avx2");
    add(f.fma, "fma");
    add(f.f16c, "f16c");
    add(f.bmi2, "bmi2");
    add(f.avx512f, "avx512f");
    add(f.avx512bw, "avx512bw");
    add(f.avx512vl, "avx512vl");
    add(f.avx512dq, "avx512dq");
    add(f.avx512vnni, "avx512vnni");
    add(f.avx512vbmi, "avx512vbmi");
    add(f.os_saves_ymm, "os-ymm");
    add(f.os_saves_zmm, "os-zmm");
    add(f.neon, "neon");
    add(f.neon_dotprod, "dotprod");
    add(f.vfpv4, "vfpv4");
    return out.empty() ? std::string("none") : out;
}

}  // namespace bitnet
