// Synthetic models: random weights in the exact layout of real files, for tests and benchmarks
// (the real 2B-4T weights cannot be downloaded here). The same seed gives the same function in
// every format: ternary codes and f16-exact scales are drawn per tensor from (seed, tensor name),
// so an I2_S, TQ2_0, TQ1_0, F16 and F32 file of one seed compute identical logits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor_type.h"

namespace bitnet {

struct SynthShape {
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t n_ff = 0;
    int32_t n_ctx = 0;
    float rope_freq_base = 500000.0f;
    // Vocabulary size when no --vocab is given: the byte-level vocabulary is padded with normal
    // filler words up to it (0: no padding), so a 2b4t file has the real embedding size; 128256
    // gives the Llama 3 special-token ids (see synth_vocab.h).
    int32_t n_vocab = 0;
};

// "tiny", "small" or "2b4t" (the real bitnet-b1.58-2B-4T shape, formats.md §2.9). Throws on others.
SynthShape synth_preset(const std::string &name);

struct SynthOptions {
    SynthShape shape;
    TensorType format = TensorType::I2_S;       // projections: I2_S, TQ2_0, TQ1_0, F16 or F32
    TensorType embedding_type = TensorType::F16;  // F16, F32, Q8_0, Q6_K or Q4_0
    std::string vocab_path;                      // GGUF to copy tokenizer metadata from; "" = byte-level
    uint64_t seed = 1;
    std::string name = "bitnet-synthetic";
    // FFN activation of the llama.cpp "bitnet" formats, written as bitnet.hidden_activation:
    // "relu2" (the 2B-4T model's) or "silu". The I2_S format is always ReLU² (formats.md §2.8).
    std::string hidden_activation = "relu2";
};

// Write the model to `path` (streamed; the 2b4t shape never sits in memory whole). Throws Error.
void write_synthetic_model(const SynthOptions &options, const std::string &path);
// The same bytes in memory, for small tests.
std::vector<uint8_t> synthesize_model(const SynthOptions &options);

}  // namespace bitnet
