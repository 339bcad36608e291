// Reading a checkpoint tensor as rows of floats, the unit the converter streams (formats.md §3.3,
// §3.4). A projection is read either as float values or as ternary codes {-1, 0, +1} with one
// per-tensor scale, from one of three storages:
//   - packed: uint8 [out/4, in], 4 output rows per byte in contiguous quarters, code = bits - 1,
//     plus a `<name>_scale`-style weight_scale tensor (multiplied or divided, per linear_class);
//   - latent floats ternarized with absmean, as BitNet does at training time;
//   - plain floats (a non-BitNet model), used as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convert/safetensors.h"

namespace bitnet::convert {

// Convert `count` elements of a float dtype (F32, F16, BF16, F64) starting at element `first`.
// Throws for other dtypes.
void read_floats(const SafeTensor &tensor, uint64_t first, uint64_t count, float *out);

// Check that `tensor` is a float dtype with exactly `shape`; throws naming the tensor, the shape
// expected and the one found.
void expect_float_tensor(const SafeTensor &tensor, const std::vector<uint64_t> &shape);

class ProjectionSource {
public:
    // Packed uint8 [rows/4, cols] codes and a weight_scale of one element. `divide`: the effective
    // weight is code / weight_scale, else code * weight_scale.
    static ProjectionSource packed(const SafeTensor &codes, const SafeTensor &weight_scale, uint64_t rows, uint64_t cols,
                                   bool divide);
    // Float [rows, cols] ternarized with absmean: s = max(mean|W|, 1e-5), code = clamp(round(W / s), -1, 1)
    // (round half to even, as torch.round), effective weight = code * s.
    static ProjectionSource absmean(const SafeTensor &weights, uint64_t rows, uint64_t cols);
    // Float [rows, cols] used as they are.
    static ProjectionSource dense(const SafeTensor &weights, uint64_t rows, uint64_t cols);

    bool ternary() const { return kind_ != Kind::Dense; }
    float scale() const { return scale_; }  // ternary only: effective weight = code * scale
    uint64_t rows() const { return rows_; }
    uint64_t cols() const { return cols_; }

    // Reorder output rows: output row r is read from source row permutation[r] (llama.cpp's q/k
    // permutation for adjacent-pair RoPE). Empty = identity.
    void set_row_order(std::vector<uint32_t> permutation) { row_order_ = std::move(permutation); }

    // Rows [first, first + n) into out (n * cols floats): ternary codes (-1, 0, +1) when ternary(),
    // else the float values.
    void read_rows(uint64_t first, uint64_t n, float *out) const;

private:
    enum class Kind { Packed, Absmean, Dense };
    void read_source_row(uint64_t row, float *out) const;

    Kind kind_ = Kind::Dense;
    const SafeTensor *tensor_ = nullptr;
    uint64_t rows_ = 0, cols_ = 0;
    float scale_ = 1.0f;
    float inverse_scale_ = 1.0f;  // absmean: 1 / s, applied as the training code does (W * (1/s))
    std::vector<uint32_t> row_order_;
};

}  // namespace bitnet::convert
