// The model hyperparameter keys of a BitNet/llama GGUF, written in the order of the official
// bitnet-b1.58-2B-4T file (formats.md §2.9: keys #0-#9, then add_bos_token #10 which the caller
// writes with its vocabulary, then #11-#13), shared by every tool that writes models (synth,
// convert) so the official layout is spelled once.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf_writer.h"
#include "tensor/tensor_type.h"

namespace bitnet::gguf {

struct ModelKeys {
    std::string architecture;  // "bitnet-b1.58", "bitnet", "llama"
    std::string name;
    uint32_t n_vocab = 0, n_ctx = 0, n_embd = 0, n_layer = 0, n_ff = 0, n_head = 0, n_head_kv = 0;
    float rms_eps = 1e-5f;
    float rope_freq_base = 10000.0f;
    uint32_t file_type = 0;         // llama_ftype (llama_file_type below)
    std::string hidden_activation;  // written as <arch>.hidden_activation after file_type; "" = none
};

// #0-#9: general.architecture, general.name, vocab_size, context_length, embedding_length,
// block_count, feed_forward_length, rope.dimension_count (= head size), head_count, head_count_kv.
void write_model_keys_head(Writer &writer, const ModelKeys &keys);
// #11-#13: layer_norm_rms_epsilon, rope.freq_base, general.file_type; then hidden_activation if set.
void write_model_keys_tail(Writer &writer, const ModelKeys &keys);

// llama_ftype of a model whose projections are `type` (formats.md §1.5; 40 = MOSTLY_I2_S in the
// BitNet fork, §2.9 #13). Throws for types that are not a projection format.
uint32_t llama_file_type(TensorType type);

}  // namespace bitnet::gguf
