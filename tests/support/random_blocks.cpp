#include "support/random_blocks.h"

#include <stdexcept>
#include <string>

#include "util/half.h"

namespace bitnet_test {
namespace {

using bitnet::TensorType;

// Where a type keeps its f16 scale and min fields (byte offsets in a block, formats.md §1.6), and
// the size of scale that makes |weight| ~ 0.05 given the largest code times sub-block scale.
struct ScaleFields {
    int d_offset;
    int min_offset;  // -1: none
    double d_size;
    double min_size;
};

ScaleFields scale_fields(TensorType type) {
    switch (type) {
        case TensorType::Q4_0: return {0, -1, 0.01, 0};
        case TensorType::Q4_1: return {0, 2, 0.01, 0.04};
        case TensorType::Q5_0: return {0, -1, 0.004, 0};
        case TensorType::Q5_1: return {0, 2, 0.004, 0.06};
        case TensorType::Q8_0: return {0, -1, 0.0005, 0};
        case TensorType::IQ4_NL: return {0, -1, 0.0005, 0};
        case TensorType::Q2_K: return {80, 82, 0.002, 0.003};
        case TensorType::Q3_K: return {108, -1, 0.0004, 0};
        case TensorType::Q4_K: return {0, 2, 0.0001, 0.0008};
        case TensorType::Q5_K: return {0, 2, 0.00005, 0.0008};
        case TensorType::Q6_K: return {208, -1, 0.00002, 0};
        default: throw std::runtime_error(std::string("random_blocks: no scale layout for ") + bitnet::tensor_type_name(type));
    }
}

void put_half(uint8_t *at, double value) {
    const uint16_t bits = bitnet::float_to_half(static_cast<float>(value));
    at[0] = static_cast<uint8_t>(bits & 0xff);
    at[1] = static_cast<uint8_t>(bits >> 8);
}

}  // namespace

std::vector<uint8_t> random_blocks(TensorType type, uint64_t n_blocks, std::mt19937_64 &random) {
    const bitnet::TensorTypeTraits &traits = bitnet::tensor_type_traits(type);
    const ScaleFields fields = scale_fields(type);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    std::vector<uint8_t> bytes(n_blocks * traits.block_bytes);
    for (uint8_t &b : bytes) b = static_cast<uint8_t>(byte(random));
    for (uint64_t b = 0; b < n_blocks; ++b) {
        uint8_t *block = bytes.data() + b * traits.block_bytes;
        put_half(block + fields.d_offset, fields.d_size * factor(random));
        if (fields.min_offset >= 0) put_half(block + fields.min_offset, fields.min_size * factor(random));
    }
    return bytes;
}

}  // namespace bitnet_test
