#include "runtime/rope.h"

#include <cmath>

#include "util/half.h"

namespace bitnet {

void rope_inverse_frequencies(const HyperParams &hp, double *inverse_frequencies) {
    for (int32_t i = 0; i < hp.n_rot / 2; ++i) {
        inverse_frequencies[i] = std::pow(static_cast<double>(hp.rope_freq_base), -2.0 * i / hp.n_rot);
    }
}

void rope_rotation_table(const HyperParams &hp, const double *inverse_frequencies, double position, float *cos_sin) {
    for (int32_t i = 0; i < hp.n_rot / 2; ++i) {
        const double angle = position * inverse_frequencies[i];
        cos_sin[2 * i] = static_cast<float>(std::cos(angle));
        cos_sin[2 * i + 1] = static_cast<float>(std::sin(angle));
    }
}

void rope_rotate(const HyperParams &hp, float *heads, int32_t n_heads, const float *cos_sin) {
    const int32_t half = hp.n_rot / 2;
    const int32_t first_stride = hp.rope_neox ? 1 : 2;
    const int32_t partner_offset = hp.rope_neox ? half : 1;
    for (int32_t i = 0; i < half; ++i) {
        const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
        const int32_t first = i * first_stride;
        for (int32_t h = 0; h < n_heads; ++h) {
            float *head = heads + static_cast<int64_t>(h) * hp.head_dim;
            const float x0 = head[first], x1 = head[first + partner_offset];
            head[first] = x0 * c - x1 * s;
            head[first + partner_offset] = x0 * s + x1 * c;
        }
    }
}

void rope_rotate_f16(const HyperParams &hp, uint16_t *heads, int32_t n_heads, const float *cos_sin, float *scratch) {
    const int64_t n = static_cast<int64_t>(n_heads) * hp.head_dim;
    for (int64_t k = 0; k < n; ++k) scratch[k] = half_to_float(heads[k]);
    rope_rotate(hp, scratch, n_heads, cos_sin);
    for (int64_t k = 0; k < n; ++k) heads[k] = float_to_half(scratch[k]);
}

}  // namespace bitnet
