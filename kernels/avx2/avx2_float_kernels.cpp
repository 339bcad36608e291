// AVX2 float kernels: float-weight rows (lm_head) and attention, instantiated from
// kernels/float_kernels_impl.h with 8-lane vectors.
#include <immintrin.h>

#include <math.h>

#include "kernels/avx2/avx2_kernels.h"
#include "kernels/float_kernels_impl.h"

namespace bitnet::avx2 {
namespace {

struct Vec8 {
    using Float = __m256;
    using Int = __m256i;
    static constexpr int kLanes = 8;
    static constexpr int kRegisters = 16;  // ymm0-15

    static Float zero() { return _mm256_setzero_ps(); }
    static Float set1(float value) { return _mm256_set1_ps(value); }
    static Float fmadd(Float a, Float b, Float acc) { return _mm256_fmadd_ps(a, b, acc); }
    static Float mul(Float a, Float b) { return _mm256_mul_ps(a, b); }
    static Float add(Float a, Float b) { return _mm256_add_ps(a, b); }
    static float reduce(Float v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static void store_f32(float *p, Float v) { _mm256_storeu_ps(p, v); }
    // Lane k = Σ lanes of v[k]: horizontal adds within 128-bit halves, then the halves added.
    static Float sum_each(const Float *v) {
        const __m256 g0 = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
        const __m256 g1 = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
        return _mm256_add_ps(_mm256_permute2f128_ps(g0, g1, 0x20), _mm256_permute2f128_ps(g0, g1, 0x31));
    }

    static Float load_f32(const uint8_t *p) { return _mm256_loadu_ps(reinterpret_cast<const float *>(p)); }
    static Float load_f16(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }
    static Float load_bf16(const uint8_t *p) {
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
    static Int load_u8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p))); }
    static Int load_i8(const uint8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p))); }

    static Int and_(Int v, int mask) { return _mm256_and_si256(v, _mm256_set1_epi32(mask)); }
    static Int shr(Int v, int bits) { return _mm256_srli_epi32(v, bits); }
    static Int shl(Int v, int bits) { return _mm256_slli_epi32(v, bits); }
    static Int or_(Int a, Int b) { return _mm256_or_si256(a, b); }
    static Int sub(Int v, int value) { return _mm256_sub_epi32(v, _mm256_set1_epi32(value)); }
    static Float to_float(Int v) { return _mm256_cvtepi32_ps(v); }

    static Float max(Float a, Float b) { return _mm256_max_ps(a, b); }
    static Float sub_f(Float a, Float b) { return _mm256_sub_ps(a, b); }
    static Float round(Float v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    // p * 2^n: n (integral, >= -127 here) added to the exponent field.
    static Float times_power_of_two(Float p, Float n) {
        return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)));
    }
    static Float zero_below(Float v, Float x, float limit) {
        return _mm256_and_ps(v, _mm256_cmp_ps(x, _mm256_set1_ps(limit), _CMP_GE_OQ));
    }
    static float half(uint16_t bits) { return _cvtsh_ss(bits); }
    static float sqrt(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }
    static float exp(float x) { return expf(x); }  // the C function: no inline C++ wrapper to share
};

}  // namespace

BITNET_DEFINE_FLOAT_KERNELS(Vec8)

}  // namespace bitnet::avx2
