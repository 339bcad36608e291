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
    // v[d] lane c <- v[c] lane d, 8 x 8: pairs of rows interleaved (ps, then pd), giving each
    // 128-bit half 4 rows' values of one column; then the halves swapped across vectors.
    static void transpose(Float *v) {
        __m256 t[8], u[8];
        for (int k = 0; k < 4; ++k) {
            t[2 * k] = _mm256_unpacklo_ps(v[2 * k], v[2 * k + 1]);
            t[2 * k + 1] = _mm256_unpackhi_ps(v[2 * k], v[2 * k + 1]);
        }
        // u[4k + j], 128-bit half L: column 4L + j of rows 4k..4k+3.
        for (int k = 0; k < 2; ++k) {
            const __m256d a = _mm256_castps_pd(t[4 * k]), b = _mm256_castps_pd(t[4 * k + 1]);
            const __m256d c = _mm256_castps_pd(t[4 * k + 2]), d = _mm256_castps_pd(t[4 * k + 3]);
            u[4 * k] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, c));
            u[4 * k + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, c));
            u[4 * k + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(b, d));
            u[4 * k + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(b, d));
        }
        for (int j = 0; j < 4; ++j) {
            v[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
            v[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
        }
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
