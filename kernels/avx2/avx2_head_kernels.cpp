// AVX2 gemm_head_a8: the x86 template (kernels/x86_head_a8.h) with maddubs + madd byte dots.
#include "kernels/avx2/avx2_kernels.h"
#include "kernels/x86_head_a8.h"

namespace bitnet::avx2 {
namespace {

struct MaddubsDot {
    // Unsigned a times signed b, pairs summed to int16 (cannot saturate here: see the header), then
    // pairs of those to int32.
    static __m256i dot(__m256i a, __m256i b) { return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)); }
};

}  // namespace

void gemm_head_a8(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                  const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride) {
    X86HeadA8<MaddubsDot>::gemm(type, weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
}

}  // namespace bitnet::avx2
