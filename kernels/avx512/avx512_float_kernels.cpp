// AVX-512 float kernels: float-weight rows (lm_head) and attention, instantiated from
// kernels/float_kernels_impl.h with 16-lane vectors.
// GCC 12's AVX-512 headers read an uninitialised "undefined" vector in some intrinsics and warn
// about it (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <math.h>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/float_kernels_impl.h"

namespace bitnet::avx512 {
namespace {

struct Vec16 {
    using Float = __m512;
    using Int = __m512i;
    static constexpr int kLanes = 16;
    static constexpr int kRegisters = 32;  // zmm0-31

    static Float zero() { return _mm512_setzero_ps(); }
    static Float set1(float value) { return _mm512_set1_ps(value); }
    static Float fmadd(Float a, Float b, Float acc) { return _mm512_fmadd_ps(a, b, acc); }
    static Float mul(Float a, Float b) { return _mm512_mul_ps(a, b); }
    static Float add(Float a, Float b) { return _mm512_add_ps(a, b); }
    static float reduce(Float v) { return _mm512_reduce_add_ps(v); }
    // v[d] lane c <- v[c] lane d, 16 x 16: pairs of rows interleaved (ps, then pd), giving each
    // 128-bit lane 4 rows' values of one column; then 128-bit lanes gathered across vectors.
    static void transpose(Float *v) {
        __m512 t[16], u[16];
        for (int k = 0; k < 8; ++k) {
            t[2 * k] = _mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]);
            t[2 * k + 1] = _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]);
        }
        // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3.
        for (int k = 0; k < 4; ++k) {
            const __m512d a = _mm512_castps_pd(t[4 * k]), b = _mm512_castps_pd(t[4 * k + 1]);
            const __m512d c = _mm512_castps_pd(t[4 * k + 2]), d = _mm512_castps_pd(t[4 * k + 3]);
            u[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
            u[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
            u[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
            u[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
        }
        for (int j = 0; j < 4; ++j) {
            const __m512 even0 = _mm512_shuffle_f32x4(u[j], u[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
            const __m512 odd0 = _mm512_shuffle_f32x4(u[j], u[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
            const __m512 even1 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
            const __m512 odd1 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
            v[j] = _mm512_shuffle_f32x4(even0, even1, _MM_SHUFFLE(2, 0, 2, 0));
            v[8 + j] = _mm512_shuffle_f32x4(even0, even1, _MM_SHUFFLE(3, 1, 3, 1));
            v[4 + j] = _mm512_shuffle_f32x4(odd0, odd1, _MM_SHUFFLE(2, 0, 2, 0));
            v[12 + j] = _mm512_shuffle_f32x4(odd0, odd1, _MM_SHUFFLE(3, 1, 3, 1));
        }
    }
    static void store_f32(float *p, Float v) { _mm512_storeu_ps(p, v); }

    static Float load_f32(const uint8_t *p) { return _mm512_loadu_ps(p); }
    static Float load_f16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))); }
    static Float load_bf16(const uint8_t *p) {
        const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
        return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
    }
    static Int load_u8(const uint8_t *p) { return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }
    static Int load_i8(const uint8_t *p) { return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }

    static Int and_(Int v, int mask) { return _mm512_and_si512(v, _mm512_set1_epi32(mask)); }
    static Int shr(Int v, int bits) { return _mm512_srli_epi32(v, static_cast<unsigned>(bits)); }
    static Int shl(Int v, int bits) { return _mm512_slli_epi32(v, static_cast<unsigned>(bits)); }
    static Int or_(Int a, Int b) { return _mm512_or_si512(a, b); }
    static Int sub(Int v, int value) { return _mm512_sub_epi32(v, _mm512_set1_epi32(value)); }
    static Float to_float(Int v) { return _mm512_cvtepi32_ps(v); }

    static Float max(Float a, Float b) { return _mm512_max_ps(a, b); }
    static Float sub_f(Float a, Float b) { return _mm512_sub_ps(a, b); }
    static Float round(Float v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static Float times_power_of_two(Float p, Float n) { return _mm512_scalef_ps(p, n); }
    static Float zero_below(Float v, Float x, float limit) {
        return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(limit), _CMP_GE_OQ), v);
    }
    static float half(uint16_t bits) { return _cvtsh_ss(bits); }
    static float sqrt(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }
    static float exp(float x) { return expf(x); }  // the C function: no inline C++ wrapper to share
};

}  // namespace

BITNET_DEFINE_FLOAT_KERNELS(Vec16)

}  // namespace bitnet::avx512
