// The shape of a trainable BitNet b1.58 model and where each parameter lives in one flat vector
// (latent weights, gradients and both AdamW moments share this layout, so the optimizer, gradient
// clipping and checkpoints treat all parameters as one array).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::train {

struct ModelShape {
    int32_t n_vocab = 0;
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t n_ff = 0;
    int32_t n_ctx = 0;  // training sequence length, written as context_length
    float rope_freq_base = 10000.0f;
    float rms_eps = 1e-5f;

    int32_t head_dim() const { return n_embd / n_head; }
    int32_t kv_dim() const { return head_dim() * n_head_kv; }
};

// pico, nano, micro or small: n_embd and n_ff multiples of 128 so that the I2_S export (blocks of 128
// along a row, formats.md §2.1) holds every projection. Throws Error on an unknown name.
ModelShape preset_shape(const std::string &name, int32_t n_vocab);

// Throws Error(BITNET_ERR_INVALID_ARGUMENT) naming the first dimension that cannot work.
void check_shape(const ModelShape &shape);

// One parameter tensor: `rows` x `cols` floats at `offset` in the flat vector (row-major, a
// projection's row is one output, as in the GGUF file where ne0 = cols).
struct ParameterView {
    std::string name;  // the GGUF tensor name, e.g. "blk.0.attn_q.weight"
    uint64_t offset = 0;
    int32_t rows = 0;
    int32_t cols = 0;
    bool projection = false;  // a BitLinear weight: ternarized in the forward pass, weight-decayed
    uint64_t size() const { return static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols); }
};

enum LayerTensor { kAttnNorm, kWq, kWk, kWv, kAttnSubNorm, kWo, kFfnNorm, kWgate, kWup, kFfnSubNorm, kWdown, kLayerTensorCount };

struct ParameterLayout {
    ParameterView token_embd;   // n_vocab x n_embd, also the lm_head (tied)
    ParameterView output_norm;  // 1 x n_embd
    std::vector<std::vector<ParameterView>> layers;  // [layer][LayerTensor]
    uint64_t total = 0;

    static ParameterLayout of(const ModelShape &shape);
    std::vector<const ParameterView *> all() const;  // in GGUF export order
};

}  // namespace bitnet::train
