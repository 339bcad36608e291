// Scalar gemm_head_a8 (kernels/kernels.h): the specification of the quantized lm_head with int8
// activations. Weight codes are unpacked from the block layouts of formats.md §1.6 (the same
// facts tensor/quantize.cpp decodes from), one 32-element group at a time, and every sum runs in
// index order.
#include "kernels/scalar/scalar_kernels.h"
#include "util/half.h"

namespace bitnet::scalar {
namespace {

// Group g of a row: its 32 integer weight codes, the sub-block scales of its two halves (1 for the
// types without sub-blocks) and the block's f16 scale d.
struct WeightGroup {
    int8_t w[32];
    int32_t sub_scale[2];
    float d;
};

float half_at(const uint8_t *p) { return half_to_float(static_cast<uint16_t>(p[0] | p[1] << 8)); }

void decode_group(TensorType type, const uint8_t *row, int64_t g, WeightGroup &out) {
    out.sub_scale[0] = out.sub_scale[1] = 1;
    if (type == TensorType::Q8_0) {  // 34 bytes: d f16, qs int8[32]
        const uint8_t *block = row + 34 * g;
        out.d = half_at(block);
        for (int i = 0; i < 32; ++i) out.w[i] = static_cast<int8_t>(block[2 + i]);
    } else if (type == TensorType::Q4_0) {  // 18 bytes: d f16, qs u8[16]: low nibbles 0..15, high 16..31
        const uint8_t *block = row + 18 * g;
        out.d = half_at(block);
        for (int i = 0; i < 16; ++i) {
            out.w[i] = static_cast<int8_t>((block[2 + i] & 15) - 8);
            out.w[i + 16] = static_cast<int8_t>((block[2 + i] >> 4) - 8);
        }
    } else {  // Q6_K, 210 bytes per 256: ql[128], qh[64], int8 scales[16], d f16; group k of 8
        const uint8_t *block = row + 210 * (g / 8);
        const int k = static_cast<int>(g % 8);
        const int half = k / 4, quarter = k % 4;
        const uint8_t *ql = block + 64 * half + (quarter % 2) * 32;
        const uint8_t *qh = block + 128 + 32 * half;
        const int low_shift = quarter < 2 ? 0 : 4;  // quarters 2 and 3 take the high nibbles
        const int high_shift = 2 * quarter;         // element 32q + l takes bits 2q..2q+1 of qh[l]
        for (int l = 0; l < 32; ++l) {
            const int code = (ql[l] >> low_shift & 15) | (qh[l] >> high_shift & 3) << 4;
            out.w[l] = static_cast<int8_t>(code - 32);
        }
        const auto *scales = reinterpret_cast<const int8_t *>(block + 192);
        out.sub_scale[0] = scales[2 * k];  // element e of the super-block has scale e / 16
        out.sub_scale[1] = scales[2 * k + 1];
        out.d = half_at(block + 208);
    }
}

}  // namespace

void gemm_head_a8(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                  const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride) {
    const int64_t n_groups = n_cols / 32;
    WeightGroup group;
    for (int64_t r = 0; r < n_rows; ++r) {
        const uint8_t *row = weights + r * row_bytes;
        for (int64_t t = 0; t < n_tokens; ++t) {
            float acc = 0.0f;
            for (int64_t g = 0; g < n_groups; ++g) {
                decode_group(type, row, g, group);
                const int8_t *q = x[t].codes + 32 * g;
                int32_t halves[2] = {0, 0};
                for (int i = 0; i < 32; ++i) halves[i / 16] += group.w[i] * q[i];
                const int32_t isum = group.sub_scale[0] * halves[0] + group.sub_scale[1] * halves[1];
                acc += static_cast<float>(isum) * (group.d * x[t].scales[g]);
            }
            out[t * out_stride + r] = acc;
        }
    }
}

}  // namespace bitnet::scalar
