// The bytes one decode step of one token reads from memory, for bitnet-bench's achieved-bandwidth
// figure: every layer's weights (projections and norms, as stored: I2_S 2 bits a weight, TQ
// blocks, float types), the final norm and the whole lm_head (it multiplies every row), one row of
// the token embedding when it is not the lm_head, and the KV cache cells attention reads (keys and
// values of every layer). Activations and logits are small beside these and not counted.
// Reading from the engine's model (bench programs link bitnet_internal).
#pragma once

#include <cstdint>

#include "bitnet.h"
#include "model/model.h"

namespace bitnet_bench {

inline uint64_t weight_bytes(const bitnet::Weight &w) { return w.present() ? w.rows * w.row_bytes() : 0; }

// `mean_cells`: the average number of KV cells a step attends to (a generation from an empty cache
// of n tokens: (n + 1) / 2); `kv_element_bytes`: 2 (F16 cache) or 4 (F32).
inline double decode_bytes_per_token(const bitnet_model &model, double mean_cells, int kv_element_bytes) {
    const bitnet::ModelWeights &w = model.weights;
    uint64_t bytes = 0;
    for (const bitnet::LayerWeights &l : w.layers) {
        for (const bitnet::Weight *x : {&l.attn_norm, &l.attn_sub_norm, &l.ffn_norm, &l.ffn_sub_norm, &l.wq, &l.wk, &l.wv,
                                        &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) {
            bytes += weight_bytes(*x);
        }
    }
    bytes += weight_bytes(w.output_norm) + weight_bytes(w.output);
    if (w.output.data != w.token_embd.data) bytes += w.token_embd.row_bytes();
    const bitnet::HyperParams &hp = model.hparams;
    const double kv_per_cell = 2.0 * hp.n_layer * double(hp.n_head_kv) * hp.head_dim * kv_element_bytes;
    return double(bytes) + kv_per_cell * mean_cells;
}

}  // namespace bitnet_bench
