// The four-lane part of the x86 ternary gemm policies (kernels/ternary_gemm_impl.h): per-token
// int32 and float lanes in SSE registers with F16C conversions, the same for AVX2 and AVX-512.
// Included only by files compiled with AVX2/F16C flags or more. The struct lives in an anonymous
// namespace, so each including ISA file gets its own copy with internal linkage (code built for
// AVX-512 is never merged into the AVX2 variant).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bitnet {
namespace {

struct X86Float4Lanes {
    using Int4 = __m128i;
    using Float4 = __m128;

    static Int4 sub4(Int4 a, const int32_t *b) {
        return _mm_sub_epi32(a, _mm_loadu_si128(reinterpret_cast<const __m128i *>(b)));
    }
    static Float4 to_float4(Int4 v) { return _mm_cvtepi32_ps(v); }
    static Float4 add4(Float4 a, Float4 b) { return _mm_add_ps(a, b); }
    static Float4 mul4(Float4 a, Float4 b) { return _mm_mul_ps(a, b); }
    static Float4 div4(Float4 a, Float4 b) { return _mm_div_ps(a, b); }
    static Float4 set4(float v) { return _mm_set1_ps(v); }
    static Float4 load4(const float *p) { return _mm_load_ps(p); }
    static void store4(float *p, Float4 v) { _mm_store_ps(p, v); }
    static Float4 half4(const uint16_t *bits) {
        return _mm_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i *>(bits)));
    }
    static float half(uint16_t bits) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits))); }
};

}  // namespace
}  // namespace bitnet
