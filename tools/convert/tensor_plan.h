// Which GGUF tensors a checkpoint becomes: names (formats.md §2.9 names, HF names of §3.4 and the
// 1bitLLM / Llama ones), shapes, types and a filler that streams each one from the mapped inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convert/checkpoint_weights.h"
#include "convert/hf_config.h"
#include "gguf/gguf_writer.h"
#include "tensor/tensor_type.h"

namespace bitnet::convert {

struct PlannedTensor {
    std::string name;
    TensorType type;
    std::vector<uint64_t> dims;  // GGUF order: dims[0] = row length
    gguf::Writer::TensorFiller filler;
};

// Every tensor of the output model, validated against config.json before anything is written.
std::vector<PlannedTensor> plan_tensors(const HfConfig &config, const CheckpointWeights &weights, TensorType outtype,
                                        TensorType embedding_type);

}  // namespace bitnet::convert
