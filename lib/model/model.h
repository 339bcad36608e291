// The loaded model: the mapped file, hyperparameters, weights bound by name, and the vocabulary.
// Immutable after loading; shared by every context made from it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "tensor/tensor_type.h"
#include "util/mapped_file.h"

namespace bitnet {

class Vocabulary;

enum class Architecture {
    BitNetB158,  // "bitnet-b1.58" and "bitnet-25": Microsoft's 2B-4T graph (formats.md §2.8)
    BitNet,      // "bitnet": llama.cpp files (1bitLLM, TQ1_0/TQ2_0 conversions)
    Llama,       // "llama": float or ternary projections, no sub-norms
};

enum class FfnActivation { Silu, ReluSquared };

struct HyperParams {
    int32_t n_vocab = 0;
    int32_t n_ctx_train = 0;
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t n_ff = 0;
    int32_t head_dim = 0;  // n_embd / n_head
    int32_t n_rot = 0;     // rope.dimension_count (defaults to head_dim)
    float rope_freq_base = 10000.0f;
    float norm_eps = 1e-5f;
    FfnActivation activation = FfnActivation::Silu;
    bool has_sub_norms = false;
    // NEOX RoPE rotates pairs (i, i + n_rot/2) in each head (the bitnet architectures, formats.md
    // §2.7); llama.cpp's `llama` files rotate adjacent pairs (2i, 2i + 1), because its converter
    // permutes the Q/K rows of Hugging Face checkpoints into that order.
    bool rope_neox = true;
};

// One weight tensor as the engine sees it: `rows` outputs of `cols` inputs each (ggml ne1 x ne0).
struct Weight {
    const gguf::TensorInfo *info = nullptr;  // the file's tensor (null if absent)
    TensorType type = TensorType::F32;       // storage type of `data`
    uint64_t cols = 0;                       // ne0: elements per row (input features)
    uint64_t stored_cols = 0;                // row length as stored: cols, or cols padded with zero
                                             // weights to a whole block when repacked at load
    uint64_t rows = 0;                       // ne1: number of rows (output features)
    const uint8_t *data = nullptr;           // in the mapping, or in the model's owned buffers
    // Multiplies the projection's output: the type's per-tensor scale (I2_S tail, formats.md §2.3)
    // times the optional `.scale` tensor, folded once at load, so backends apply one number
    // whatever the type (per-block scales stay inside the blocks). 1 for norms and embeddings.
    float scale = 1.0f;

    bool present() const { return data != nullptr; }
    size_t row_bytes() const { return tensor_row_bytes(type, stored_cols); }
};

// How a float-activation path (no BitLinear) applies Weight::scale around a decoded row: a type
// with a per-tensor scale multiplies each decoded element by it, as its decoder defines
// (tensor/quantize.h); any other type multiplies the dot product. One of the two is always 1.
struct ScaledDecode {
    float element_scale;
    float output_scale;
};
ScaledDecode scaled_decode(const Weight &weight);

struct LayerWeights {
    Weight attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm;
    Weight wq, wk, wv, wo, ffn_gate, ffn_up, ffn_down;
};

struct ModelWeights {
    Weight token_embd;
    Weight output_norm;
    Weight output;  // lm_head; refers to token_embd when tied
    std::vector<LayerWeights> layers;
};

// Load a model from a file image (owned mapping or caller memory). Throws Error.
struct LoadOptions {
    bitnet_progress_callback progress_callback = nullptr;
    void *progress_user_data = nullptr;
    bitnet_head_type head_type = BITNET_HEAD_AS_STORED;
    bool vocab_only = false;
    bool use_mmap = true;
    bool use_mlock = false;  // bitnet_model_params.use_mlock
    // Header, metadata and tensor table only (bitnet_model_params.metadata_only): the GGUF is parsed
    // keeping unrunnable tensor types, hyperparameters are read where possible, nothing else.
    bool metadata_only = false;
    // Check everything a load checks, but do not repack weights (check_runnable below).
    bool validate_only = false;
};

}  // namespace bitnet

struct bitnet_model {
    bitnet::MappedFile mapping;
    bitnet::gguf::File file;
    std::string architecture_name;  // general.architecture as stored
    std::string name;               // general.name or ""
    bitnet::Architecture arch = bitnet::Architecture::Llama;
    bitnet::HyperParams hparams;
    bitnet::ModelWeights weights;
    std::unique_ptr<bitnet::Vocabulary> vocab;       // null when the file has no tokenizer
    std::vector<std::unique_ptr<uint8_t[]>> owned;   // tensors repacked at load (counted, logged)
    uint64_t owned_bytes = 0;
    uint64_t n_params = 0;
    uint64_t fingerprint = 0;  // xxh3-64 of the GGUF metadata and tensor table (state files)
    // Unique in the process, never reused (model/model_lifetime.h): what caches kept outside the
    // model, such as the Vulkan backend's uploaded weights, key on instead of the model's address.
    uint64_t load_id = 0;
    bool metadata_only = false;  // opened with LoadOptions::metadata_only: no vocabulary, no weights

    ~bitnet_model();
};

namespace bitnet {
std::unique_ptr<bitnet_model> load_model(MappedFile mapping, const LoadOptions &options);
// Throws the Error a full load of the model's file would throw, if any (bitnet_model_runnable).
void check_runnable(const bitnet_model &model);
}
