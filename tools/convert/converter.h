// `bitnet convert`: a Hugging Face checkpoint folder -> one GGUF file (issue 13 item 1).
//
// What is written, per checkpoint kind (hf_config.h):
//   BitNetForCausalLM, --outtype i2_s (default): the official 2B-4T layout, arch `bitnet-b1.58`,
//     the 24 keys and 2 + 11 * n_layer tensors of formats.md §2.9.
//   BitNetForCausalLM, other outtypes: llama.cpp's `bitnet` layout with hidden_activation relu2.
//   BitnetForCausalLM (1bitLLM): `bitnet`, hidden_activation silu, sub-norms.
//   LlamaForCausalLM (ternary or float): `llama`, q/k rows permuted for adjacent-pair RoPE as
//     llama.cpp's converter does (HF stores them for rotate_half).
// Inputs are memory-mapped and tensors streamed; the result appears at the output path only when
// complete (written under a temporary name, then renamed).
#pragma once

#include <optional>
#include <string>

#include "tensor/tensor_type.h"

namespace bitnet::convert {

struct ConvertOptions {
    std::string input_folder;
    std::string output_path;
    std::optional<TensorType> outtype;     // projections; default i2_s (ternary kinds) or f16 (float llama)
    TensorType embedding_type = TensorType::F16;  // token_embd (and an untied output.weight)
    bool vocab_only = false;
    std::string name;                      // general.name; "" = the folder's name
    bool progress = false;                 // draw the progress bar (the CLI passes isatty(stderr))
};

// Throws Error naming the file, field or tensor on anything unexpected. Nothing is left at
// options.output_path unless the conversion completes.
void convert_checkpoint(const ConvertOptions &options);

}  // namespace bitnet::convert
