// bitnet quantize: re-encode a GGUF model's projections between the ternary types (I2_S, TQ2_0,
// TQ1_0) and the float types (F32, F16, BF16), and its embedding / lm_head between F32, F16, BF16,
// Q8_0, Q6_K and Q4_0, keeping every other tensor and all metadata (issue 13, item 2).
//
// Ternary to ternary is lossless where the target can hold the source's scales: an I2_S tensor's
// one scale becomes each TQ block's f16 scale (exact when the scale is an f16 value), and TQ blocks
// that share one scale become I2_S's per-tensor scale. Every re-encoded tensor is decoded again and
// compared with its source values; any difference is reported in QuantizeResult::notes (tensor,
// how many values changed, largest relative change), never silently.
//
// The architecture follows the target layout (formats.md §2.7, §2.9): I2_S files use Microsoft's
// official `bitnet-b1.58` layout (no `.scale` tensors: they are folded into the I2_S scale), the
// other types llama.cpp's `bitnet` layout. Keys under the old architecture's prefix are renamed,
// and `hidden_activation` is written where the two layouts' defaults differ (ReLU² for
// bitnet-b1.58, SiLU for bitnet), so the model computes the same function. `llama` files keep their
// architecture.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor_type.h"

namespace bitnet {

struct QuantizeOptions {
    TensorType projection_type = TensorType::I2_S;  // I2_S, TQ2_0, TQ1_0, F32, F16 or BF16
    std::optional<TensorType> embedding_type;       // token_embd: F32, F16, BF16, Q8_0, Q6_K or Q4_0
    std::optional<TensorType> head_type;            // output.weight (an untied lm_head), same types
};

struct QuantizeResult {
    std::string architecture;        // of the output
    std::vector<std::string> notes;  // what was not lossless or not re-encoded, one line each
};

// The projection / embedding types QuantizeOptions accepts, for parsing and messages.
bool is_projection_target(TensorType type);
bool is_embedding_target(TensorType type);

// Read `input_path`, write `output_path` atomically (a temporary file in the same folder, renamed
// at the end; nothing is left behind on failure). Throws Error with a message naming the file,
// tensor or option: an unreadable or malformed input, an output that is the input file, a tensor
// whose rows do not fit the target type's block, an unsupported architecture.
QuantizeResult quantize_model(const std::string &input_path, const std::string &output_path,
                              const QuantizeOptions &options);

}  // namespace bitnet
