// One recipe serves every supported architecture, because they are one graph (formats.md §2.8,
// §3.2): BitNet b1.58 (bitnet-b1.58, bitnet-25, llama.cpp's bitnet) is the llama graph plus two
// sub-norms, with the FFN activation the model names; llama has no sub-norms. Which projections
// are BitLinear follows from the weight types, inside the backend's project().
#include "runtime/forward.h"

#include "util/error.h"

namespace bitnet {

void forward(const bitnet_model &model, const BatchPlan &plan, Ops &ops, const std::function<bool()> &should_abort) {
    const HyperParams &hp = model.hparams;
    const ModelWeights &w = model.weights;
    ops.begin(plan);
    ops.embed(w.token_embd);
    for (int32_t layer = 0; layer < hp.n_layer; ++layer) {
        if (should_abort && should_abort()) fail(BITNET_ERR_ABORTED, "decode: aborted by the abort callback");
        const LayerWeights &lw = w.layers[layer];

        ops.rms_norm(Act::Residual, lw.attn_norm, Act::Normed);
        ops.project(lw.wq, Act::Normed, Act::Q);
        ops.project(lw.wk, Act::Normed, Act::K);
        ops.project(lw.wv, Act::Normed, Act::V);
        ops.rope(Act::Q, hp.n_head);
        ops.rope(Act::K, hp.n_head_kv);
        ops.attention(layer);
        if (lw.attn_sub_norm.present()) ops.rms_norm(Act::Attention, lw.attn_sub_norm, Act::Attention);
        ops.project(lw.wo, Act::Attention, Act::Projected);
        ops.add(Act::Residual, Act::Projected);

        ops.rms_norm(Act::Residual, lw.ffn_norm, Act::Normed);
        ops.project(lw.ffn_gate, Act::Normed, Act::Gate);
        ops.project(lw.ffn_up, Act::Normed, Act::Up);
        ops.gated_activation(hp.activation);
        if (lw.ffn_sub_norm.present()) ops.rms_norm(Act::Gate, lw.ffn_sub_norm, Act::Gate);
        ops.project(lw.ffn_down, Act::Gate, Act::Projected);
        ops.add(Act::Residual, Act::Projected);
    }
    if (should_abort && should_abort()) fail(BITNET_ERR_ABORTED, "decode: aborted by the abort callback");
    ops.rms_norm(Act::Residual, w.output_norm, Act::Normed);
    ops.output(w.output, Act::Normed);
    ops.end();
}

}  // namespace bitnet
