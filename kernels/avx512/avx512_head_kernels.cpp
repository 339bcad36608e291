// AVX-512 gemm_head_a8: the x86 template (kernels/x86_head_a8.h) with VNNI byte dots (vpdpbusd on
// 256-bit vectors, AVX512-VL), one instruction where AVX2 needs two.
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/x86_head_a8.h"

namespace bitnet::avx512 {
namespace {

struct VnniDot {
    static __m256i dot(__m256i a, __m256i b) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b); }
};

}  // namespace

void gemm_head_a8(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                  const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride) {
    X86HeadA8<VnniDot>::gemm(type, weights, row_bytes, n_rows, n_cols, x, n_tokens, out, out_stride);
}

}  // namespace bitnet::avx512
