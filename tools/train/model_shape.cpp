#include "train/model_shape.h"

#include "util/error.h"

namespace bitnet::train {

ModelShape preset_shape(const std::string &name, int32_t n_vocab) {
    ModelShape shape;
    shape.n_vocab = n_vocab;
    if (name == "pico") {
        // A draft model for speculative decoding with nano's vocabulary (bench/RESULTS.md): half of
        // nano's layers and FFN; n_embd stays at the 128 the I2_S export needs.
        shape.n_embd = 128, shape.n_layer = 1, shape.n_head = 2, shape.n_head_kv = 1, shape.n_ff = 128, shape.n_ctx = 64;
    } else if (name == "nano") {
        shape.n_embd = 128, shape.n_layer = 2, shape.n_head = 4, shape.n_head_kv = 2, shape.n_ff = 256, shape.n_ctx = 64;
    } else if (name == "micro") {
        shape.n_embd = 256, shape.n_layer = 4, shape.n_head = 4, shape.n_head_kv = 2, shape.n_ff = 640, shape.n_ctx = 128;
    } else if (name == "small") {
        shape.n_embd = 384, shape.n_layer = 6, shape.n_head = 6, shape.n_head_kv = 2, shape.n_ff = 1024, shape.n_ctx = 256;
    } else {
        fail(BITNET_ERR_INVALID_ARGUMENT, "train: unknown preset '%s' (pico, nano, micro, small)", name.c_str());
    }
    return shape;
}

void check_shape(const ModelShape &s) {
    if (s.n_vocab < 2 || s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.n_ff <= 0 ||
        s.n_ctx < 2) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "train: every model dimension must be positive (context at least 2, vocabulary at least 2)");
    }
    if (s.n_embd % s.n_head != 0 || s.n_head % s.n_head_kv != 0) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "train: n_embd (%d) must divide by n_head (%d), and n_head by n_head_kv (%d)",
             s.n_embd, s.n_head, s.n_head_kv);
    }
    if (s.head_dim() % 2 != 0) fail(BITNET_ERR_INVALID_ARGUMENT, "train: head_dim %d must be even for RoPE", s.head_dim());
}

ParameterLayout ParameterLayout::of(const ModelShape &s) {
    ParameterLayout layout;
    auto add = [&layout](std::string name, int32_t rows, int32_t cols, bool projection) {
        ParameterView view{std::move(name), layout.total, rows, cols, projection};
        layout.total += view.size();
        return view;
    };
    layout.token_embd = add("token_embd.weight", s.n_vocab, s.n_embd, false);
    layout.output_norm = add("output_norm.weight", 1, s.n_embd, false);
    for (int32_t l = 0; l < s.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        std::vector<ParameterView> views(kLayerTensorCount);
        views[kAttnNorm] = add(p + "attn_norm.weight", 1, s.n_embd, false);
        views[kWq] = add(p + "attn_q.weight", s.n_embd, s.n_embd, true);
        views[kWk] = add(p + "attn_k.weight", s.kv_dim(), s.n_embd, true);
        views[kWv] = add(p + "attn_v.weight", s.kv_dim(), s.n_embd, true);
        views[kAttnSubNorm] = add(p + "attn_sub_norm.weight", 1, s.n_embd, false);
        views[kWo] = add(p + "attn_output.weight", s.n_embd, s.n_embd, true);
        views[kFfnNorm] = add(p + "ffn_norm.weight", 1, s.n_embd, false);
        views[kWgate] = add(p + "ffn_gate.weight", s.n_ff, s.n_embd, true);
        views[kWup] = add(p + "ffn_up.weight", s.n_ff, s.n_embd, true);
        views[kFfnSubNorm] = add(p + "ffn_sub_norm.weight", 1, s.n_ff, false);
        views[kWdown] = add(p + "ffn_down.weight", s.n_embd, s.n_ff, true);
        layout.layers.push_back(std::move(views));
    }
    return layout;
}

std::vector<const ParameterView *> ParameterLayout::all() const {
    std::vector<const ParameterView *> out{&token_embd, &output_norm};
    for (const auto &layer : layers) {
        for (const auto &view : layer) out.push_back(&view);
    }
    return out;
}

}  // namespace bitnet::train
