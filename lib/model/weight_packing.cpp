#include "model/weight_packing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>
#include <vector>

#include "tensor/quantize.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parallel.h"

namespace bitnet {
namespace {

// The common magnitude if every value is 0 or ±a for one a > 0; 0 otherwise (and for all-zero).
float ternary_magnitude(const std::vector<float> &values) {
    float magnitude = 0.0f;
    for (float value : values) {
        float a = std::fabs(value);
        if (a == 0.0f) continue;
        if (magnitude == 0.0f) magnitude = a;
        if (a != magnitude) return 0.0f;
    }
    return magnitude;
}

void ternarize_absmean(std::vector<float> &values) {
    double sum = 0.0;
    for (float value : values) sum += std::fabs(value);
    double scale = std::max(sum / static_cast<double>(values.size()), 1e-5);
    for (float &value : values) {
        double code = std::nearbyint(value / scale);
        value = static_cast<float>(std::clamp(code, -1.0, 1.0) * scale);
    }
}

}  // namespace

void pack_float_projection(bitnet_model &model, Weight &weight) {
    const uint64_t cols = weight.cols, rows = weight.rows;
    std::vector<float> values(cols * rows);
    dequantize_rows(weight.type, weight.data, cols, rows, 0, rows, values.data());
    const char *name = weight.info ? weight.info->name.c_str() : "?";
    if (ternary_magnitude(values) == 0.0f) {
        ternarize_absmean(values);
        LOG_WARN("model: '%s' holds float weights that are not ternary: ternarized with absmean at load", name);
    }

    const uint64_t block = tensor_type_traits(TensorType::I2_S).block_elements;
    const uint64_t stored_cols = (cols + block - 1) / block * block;
    std::vector<float> padded(stored_cols * rows, 0.0f);
    for (uint64_t row = 0; row < rows; ++row) {
        std::copy(values.begin() + row * cols, values.begin() + (row + 1) * cols, padded.begin() + row * stored_cols);
    }
    uint64_t bytes = 0;
    if (!tensor_total_bytes(TensorType::I2_S, stored_cols * rows, stored_cols, &bytes)) {
        fail(BITNET_ERR_INVALID_MODEL, "model: '%s' is too large to repack", name);
    }
    auto buffer = std::make_unique<uint8_t[]>(bytes);
    quantize_tensor(TensorType::I2_S, padded.data(), stored_cols, rows, buffer.get());

    weight.type = TensorType::I2_S;
    weight.stored_cols = stored_cols;
    weight.data = buffer.get();
    // The packed tensor's own scale, times a `.scale` tensor already folded in by the binder.
    weight.scale = tensor_scale(TensorType::I2_S, buffer.get(), stored_cols * rows) * weight.scale;
    model.owned_bytes += bytes;
    model.owned.push_back(std::move(buffer));
    LOG_DEBUG("model: packed '%s' (%s [%llu, %llu]) into I2_S, %llu bytes", name,
              weight.info ? tensor_type_name(weight.info->type) : "?", static_cast<unsigned long long>(cols),
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(bytes));
}

void requantize_output(bitnet_model &model, TensorType target) {
    Weight &head = model.weights.output;
    if (head.type == target) return;
    const uint64_t cols = head.cols, rows = head.rows;
    const TensorTypeTraits &traits = tensor_type_traits(target);
    uint64_t bytes = 0;
    if (cols % traits.block_elements != 0 || !tensor_total_bytes(target, cols * rows, cols, &bytes)) {
        fail(BITNET_ERR_UNSUPPORTED, "model: the lm_head's rows of %llu values cannot be stored as %s (blocks of %u)",
             static_cast<unsigned long long>(cols), traits.name, traits.block_elements);
    }
    auto start = std::chrono::steady_clock::now();
    auto buffer = std::make_unique<uint8_t[]>(bytes);
    const uint64_t row_bytes = tensor_row_bytes(target, cols);
    const int64_t chunk = 256;
    const int64_t chunks = static_cast<int64_t>((rows + chunk - 1) / chunk);
    const int threads = static_cast<int>(
        std::clamp<int64_t>(static_cast<int64_t>(std::thread::hardware_concurrency()), 1, chunks));
    // parallel_for bodies must not throw (an exception leaving an OpenMP region terminates the
    // process): every allocation happens here, and a failure inside is carried out and rethrown.
    std::vector<std::vector<float>> scratch(static_cast<size_t>(threads));
    for (std::vector<float> &values : scratch) values.resize(chunk * cols);
    std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
    parallel_for(threads, chunks, 1, [&](int64_t begin, int64_t end, int thread) noexcept {
        try {
            float *values = scratch[static_cast<size_t>(thread)].data();
            for (int64_t c = begin; c < end; ++c) {
                const uint64_t first = static_cast<uint64_t>(c) * chunk, n = std::min<uint64_t>(chunk, rows - first);
                dequantize_rows(head.type, head.data, head.stored_cols, rows, first, n, values);
                quantize_tensor(target, values, cols, n, buffer.get() + first * row_bytes);
            }
        } catch (...) {
            errors[static_cast<size_t>(thread)] = std::current_exception();
        }
    });
    for (const std::exception_ptr &error : errors) {
        if (error) std::rethrow_exception(error);
    }
    LOG_INFO("model: lm_head re-encoded from %s to %s at load: %.1f MiB in %.0f ms", tensor_type_name(head.type),
             traits.name, bytes / 1048576.0,
             std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    head.type = target;
    head.stored_cols = cols;
    head.data = buffer.get();
    head.scale = 1.0f;
    model.owned_bytes += bytes;
    model.owned.push_back(std::move(buffer));
}

}  // namespace bitnet
