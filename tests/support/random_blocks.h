// Valid blocks of any stored type filled with random codes, for files in the decode-only types
// (the quantizer fallback types, which the engine cannot encode): every code bit pattern of these
// formats is a valid code, so random bytes are valid blocks once the f16 scale fields hold sane
// values. What a test checks is that the engine and tests/reference decode the same bytes alike.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "tensor/tensor_type.h"

namespace bitnet_test {

// `n_blocks` blocks of `type` (not ternary): random code bytes, and each f16 scale (d) and min
// field (dmin, m) set to a random value of a size that keeps decoded weights around 0.05.
std::vector<uint8_t> random_blocks(bitnet::TensorType type, uint64_t n_blocks, std::mt19937_64 &random);

}  // namespace bitnet_test
