// Checks that a GGUF file has the official bitnet-b1.58-2B-4T layout (formats.md §2.9).
#pragma once

#include "gguf/gguf.h"

namespace bitnet_test {

// 24 metadata keys in the official order, file_type 40, no pre-tokenizer or alignment key, and
// 2 + 11 * n_layer tensors with the official names and types. Reports through GoogleTest.
void expect_official_layout(const bitnet::gguf::File &file, int n_layer);

}  // namespace bitnet_test
