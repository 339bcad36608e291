#include "convert/weight_source.h"

#include <cmath>
#include <cstring>

#include "util/error.h"
#include "util/half.h"

namespace bitnet::convert {
namespace {

std::string shape_text(const std::vector<uint64_t> &shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

[[noreturn]] void bad_tensor(const SafeTensor &tensor, const std::string &what) {
    fail(BITNET_ERR_INVALID_MODEL, "%s: tensor '%s' (%s %s): %s", tensor.path.c_str(), tensor.name.c_str(),
         dtype_name(tensor.dtype), shape_text(tensor.shape).c_str(), what.c_str());
}

bool is_float_dtype(Dtype dtype) {
    return dtype == Dtype::F32 || dtype == Dtype::F16 || dtype == Dtype::BF16 || dtype == Dtype::F64;
}

}  // namespace

void read_floats(const SafeTensor &tensor, uint64_t first, uint64_t count, float *out) {
    const uint8_t *base = tensor.data;
    switch (tensor.dtype) {
        case Dtype::F32: std::memcpy(out, base + first * 4, count * 4); return;
        case Dtype::F64:
            for (uint64_t i = 0; i < count; ++i) {
                double value;
                std::memcpy(&value, base + (first + i) * 8, 8);
                out[i] = static_cast<float>(value);
            }
            return;
        case Dtype::F16:
        case Dtype::BF16: {
            const bool brain = tensor.dtype == Dtype::BF16;
            for (uint64_t i = 0; i < count; ++i) {
                uint16_t bits;
                std::memcpy(&bits, base + (first + i) * 2, 2);
                out[i] = brain ? bf16_to_float(bits) : half_to_float(bits);
            }
            return;
        }
        default: bad_tensor(tensor, "expected a float dtype (F32, F16, BF16 or F64)");
    }
}

void expect_float_tensor(const SafeTensor &tensor, const std::vector<uint64_t> &shape) {
    if (!is_float_dtype(tensor.dtype)) bad_tensor(tensor, "expected a float dtype (F32, F16, BF16 or F64)");
    if (tensor.shape != shape) bad_tensor(tensor, "expected shape " + shape_text(shape));
}

ProjectionSource ProjectionSource::packed(const SafeTensor &codes, const SafeTensor &weight_scale, uint64_t rows,
                                          uint64_t cols, bool divide) {
    if (codes.dtype != Dtype::U8) bad_tensor(codes, "expected U8 packed ternary codes (4 per byte)");
    if (rows % 4 != 0 || codes.shape != std::vector<uint64_t>{rows / 4, cols}) {
        bad_tensor(codes, "expected packed shape " + shape_text({rows / 4, cols}) + " for a [" + std::to_string(rows) +
                              ", " + std::to_string(cols) + "] projection");
    }
    if (!is_float_dtype(weight_scale.dtype) || weight_scale.n_elements != 1 || weight_scale.shape.size() > 1) {
        bad_tensor(weight_scale, "expected a float weight_scale of shape [1] or []");
    }
    float value = 0.0f;
    read_floats(weight_scale, 0, 1, &value);
    if (!std::isfinite(value) || !(value > 0.0f)) bad_tensor(weight_scale, "weight_scale must be finite and positive");

    ProjectionSource source;
    source.kind_ = Kind::Packed;
    source.tensor_ = &codes;
    source.rows_ = rows;
    source.cols_ = cols;
    source.scale_ = divide ? static_cast<float>(1.0 / static_cast<double>(value)) : value;
    return source;
}

ProjectionSource ProjectionSource::absmean(const SafeTensor &weights, uint64_t rows, uint64_t cols) {
    expect_float_tensor(weights, {rows, cols});
    // mean|W| over the whole tensor, streamed in chunks (double accumulation).
    std::vector<float> chunk(1 << 16);
    double sum = 0.0;
    for (uint64_t first = 0; first < weights.n_elements; first += chunk.size()) {
        const uint64_t n = std::min<uint64_t>(chunk.size(), weights.n_elements - first);
        read_floats(weights, first, n, chunk.data());
        for (uint64_t i = 0; i < n; ++i) {
            if (!std::isfinite(chunk[i])) bad_tensor(weights, "holds a value that is not finite");
            sum += std::fabs(static_cast<double>(chunk[i]));
        }
    }
    const double mean = std::max(sum / static_cast<double>(weights.n_elements), 1e-5);
    ProjectionSource source;
    source.kind_ = Kind::Absmean;
    source.tensor_ = &weights;
    source.rows_ = rows;
    source.cols_ = cols;
    source.scale_ = static_cast<float>(mean);
    source.inverse_scale_ = static_cast<float>(1.0 / mean);
    return source;
}

ProjectionSource ProjectionSource::dense(const SafeTensor &weights, uint64_t rows, uint64_t cols) {
    expect_float_tensor(weights, {rows, cols});
    ProjectionSource source;
    source.kind_ = Kind::Dense;
    source.tensor_ = &weights;
    source.rows_ = rows;
    source.cols_ = cols;
    return source;
}

void ProjectionSource::read_source_row(uint64_t row, float *out) const {
    if (kind_ == Kind::Packed) {
        // HF pack_weights (formats.md §3.4): bits 2q+1:2q of packed row r hold output row r + q*R.
        const uint64_t quarter_rows = rows_ / 4;
        const uint8_t *packed = tensor_->data + (row % quarter_rows) * cols_;
        const unsigned shift = static_cast<unsigned>(2 * (row / quarter_rows));
        for (uint64_t col = 0; col < cols_; ++col) {
            const int code = (packed[col] >> shift) & 3;
            if (code == 3) bad_tensor(*tensor_, "holds the code 3, which is not a ternary value");
            out[col] = static_cast<float>(code - 1);
        }
        return;
    }
    read_floats(*tensor_, row * cols_, cols_, out);
    if (kind_ == Kind::Absmean) {
        for (uint64_t col = 0; col < cols_; ++col) {
            const float code = std::nearbyint(out[col] * inverse_scale_);  // half to even, like torch.round
            out[col] = std::fmin(1.0f, std::fmax(-1.0f, code));
        }
    }
}

void ProjectionSource::read_rows(uint64_t first, uint64_t n, float *out) const {
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t row = row_order_.empty() ? first + i : row_order_[first + i];
        read_source_row(row, out + i * cols_);
    }
}

}  // namespace bitnet::convert
