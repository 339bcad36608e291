// quantize_head_activations (kernels/kernels.h): the int8 activations of the quantized lm_head.
#include <cmath>

#include "kernels/kernels.h"

namespace bitnet {

void quantize_head_activations(const float *x, int64_t n, int8_t *codes, float *scales) {
    for (int64_t b = 0; b < n / kHeadActBlock; ++b) {
        const float *in = x + b * kHeadActBlock;
        int8_t *out = codes + b * kHeadActBlock;
        float amax = 0.0f;
        for (int64_t i = 0; i < kHeadActBlock; ++i) amax = std::fabs(in[i]) > amax ? std::fabs(in[i]) : amax;
        scales[b] = amax / 127.0f;
        const float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
        for (int64_t i = 0; i < kHeadActBlock; ++i) {
            float v = std::nearbyint(in[i] * inverse);  // round half to even (default rounding mode)
            v = v > 127.0f ? 127.0f : v;
            v = v < -127.0f ? -127.0f : v;
            out[i] = v == v ? static_cast<int8_t>(v) : 0;  // NaN input: code 0 (its scale is NaN already)
        }
    }
}

}  // namespace bitnet
