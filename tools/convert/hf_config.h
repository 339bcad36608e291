// config.json of a Hugging Face checkpoint: the architecture, the hyperparameters, and which kind
// of checkpoint it is (formats.md §3.1, §3.4, §3.6; the model cards of the checkpoints named in issue 13).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "convert/json_file.h"

namespace bitnet::convert {

enum class CheckpointKind {
    // BitNetForCausalLM (microsoft/bitnet-b1.58-2B-4T and -bf16): ReLU², sub-norms. The projections
    // are packed uint8 + weight_scale or latent floats; which one is read from the tensors.
    MicrosoftBitNet,
    // BitnetForCausalLM (1bitLLM/bitnet_b1_58-*): latent float weights, SiLU, sub-norms named
    // inner_attn_ln / ffn_layernorm, SentencePiece vocabulary.
    OneBitLlm,
    // LlamaForCausalLM with quantization_config.quant_method "bitnet" (HF1BitLLM/Llama3-8B-1.58,
    // tiiuae/Falcon3-*-1.58bit): packed uint8 + weight_scale, SiLU, no sub-norms.
    TernaryLlama,
    // LlamaForCausalLM without quantization: float projections.
    FloatLlama,
};

const char *checkpoint_kind_name(CheckpointKind kind);

struct HfConfig {
    std::string path;  // config.json, for messages
    std::string architecture;
    CheckpointKind kind = CheckpointKind::FloatLlama;
    int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_ctx = 0;
    double rope_theta = 10000.0;
    double rms_eps = 1e-6;
    std::string activation;        // "relu2" or "silu"
    bool tied_embeddings = false;
    // The effective ternary weight is codes * weight_scale ("autobitlinear") or codes / weight_scale
    // ("bitlinear", transformers' BitNetQuantConfig default) (formats.md §3.4, §6.5).
    bool weight_scale_divides = true;
    std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;

    bool ternary() const { return kind != CheckpointKind::FloatLlama; }
    bool sub_norms() const { return kind == CheckpointKind::MicrosoftBitNet || kind == CheckpointKind::OneBitLlm; }
};

// Read and check config.json. Unknown architectures, missing keys, unsupported quantization
// configs or inconsistent dimensions throw Error(BITNET_ERR_INVALID_MODEL or _UNSUPPORTED) naming
// the file and the field.
HfConfig read_hf_config(const JsonFile &config);

// A token id field (config.json, generation_config.json): a number, or a list whose first entry is
// used (Llama 3 instruct lists several EOS ids). Absent or null -> nullopt.
std::optional<int64_t> read_token_id(const JsonFile &file, const char *field);

}  // namespace bitnet::convert
