// Small complete models written with the project's GGUF writer, for tests of model loading and of
// load-time conversions: every tensor and key can be left out, reshaped or retyped, and extra
// tensors and keys added, so that each validation rule of the loader can be reached on its own.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tensor/tensor_type.h"

namespace bitnet_test {

struct ExtraTensor {
    std::string name;
    bitnet::TensorType type = bitnet::TensorType::F32;
    std::vector<uint64_t> dims;
    std::vector<float> values;  // product of dims values (quantized to `type` when written)
};

struct ModelSpec {
    std::string architecture = "bitnet";  // general.architecture ("bitnet", "bitnet-b1.58", "llama")
    std::string name = "builder-model";   // general.name ("" = no key)
    int n_vocab = 48;
    int n_embd = 64;
    int n_layer = 2;
    int n_head = 4;
    int n_head_kv = 2;
    int n_ff = 96;
    int n_ctx = 80;  // <arch>.context_length
    // Projections: stored as this type. `ternary` true: every value is 0 or +-alpha (one alpha per
    // tensor); false: arbitrary floats (BitNet architectures ternarize them at load with absmean).
    bitnet::TensorType projection_type = bitnet::TensorType::F32;
    bool ternary = true;
    bitnet::TensorType embedding_type = bitnet::TensorType::F32;
    bool tied = true;                    // no output.weight: the lm_head is token_embd
    std::string activation = "relu2";    // <arch>.hidden_activation ("" = no key)
    bool vocab_size_key = false;         // write <arch>.vocab_size (otherwise the embedding tells)
    uint64_t alignment = 32;             // != 32 writes general.alignment
    uint64_t seed = 1;

    // Mutations, applied while writing.
    std::set<std::string> omit_tensors;                          // by tensor name
    std::set<std::string> omit_keys;                             // by full key ("bitnet.block_count")
    std::map<std::string, std::vector<uint64_t>> reshape;        // tensor name -> dims written instead
    std::map<std::string, bitnet::TensorType> retype;            // tensor name -> type written instead
                                                                 // (a decode-only type: random valid
                                                                 // blocks, support/random_blocks.h)
    std::map<std::string, std::string> string_keys;              // extra or replaced string keys
    std::vector<ExtraTensor> extra_tensors;                      // written after the model's own
};

// The GGUF image of the model.
std::vector<uint8_t> build_model(const ModelSpec &spec);

// The number of weights the model's tensors hold (sum of the products of their dims, extra
// tensors included), computed from the spec alone.
uint64_t spec_n_params(const ModelSpec &spec);

// Write `bytes` under the per-process temp folder as `name` and return the path.
std::string write_temp(const std::string &name, const std::vector<uint8_t> &bytes);

}  // namespace bitnet_test
