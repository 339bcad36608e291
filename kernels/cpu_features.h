// What this CPU and its operating system let the kernels use: cpuid feature bits, with the vector
// register state checked through xgetbv (an OS that does not save YMM/ZMM registers on a context
// switch makes AVX2/AVX-512 unusable even when cpuid reports them). On AArch64 and 32-bit ARM,
// the kernel's hardware capability bits (getauxval(AT_HWCAP)).
#pragma once

#include <string>

namespace bitnet {

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool bmi2 = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512vbmi = false;
    bool os_saves_ymm = false;  // XCR0: SSE and AVX state
    bool os_saves_zmm = false;  // XCR0: SSE, AVX, opmask, ZMM_Hi256 and Hi16_ZMM state
    bool neon = false;          // Advanced SIMD (always present on AArch64; HWCAP_NEON on 32-bit ARM)
    bool neon_dotprod = false;  // AArch64 SDOT/UDOT (HWCAP_ASIMDDP)
    bool vfpv4 = false;         // 32-bit ARM: VFPv4, whose VFMA the NEON kernels use (HWCAP_VFPv4)
};

// Detected once (thread-safe); all false on CPUs other than x86-64, AArch64 and 32-bit ARM Linux.
const CpuFeatures &cpu_features();

// Everything the kernels/avx2/ files are compiled for: AVX2, FMA, F16C, BMI2 and OS YMM support.
bool cpu_runs_avx2_kernels(const CpuFeatures &features);
// The avx2 set plus AVX-512 F, BW, VL, DQ, VNNI, VBMI and OS ZMM support.
bool cpu_runs_avx512_kernels(const CpuFeatures &features);

// The kernels/neon/ files: baseline Advanced SIMD for "neon" (plus VFPv4 on 32-bit ARM), plus
// dotprod for "neon_dotprod" (AArch64 only).
bool cpu_runs_neon_kernels(const CpuFeatures &features);
bool cpu_runs_neon_dotprod_kernels(const CpuFeatures &features);

// "avx2 fma f16c ..." for logs and test output.
std::string describe_cpu_features(const CpuFeatures &features);

}  // namespace bitnet
