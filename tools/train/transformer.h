// Forward and backward pass of a BitNet b1.58 decoder (formats.md §2.8, §3.2) over a batch of
// equal-length sequences, written once for float (training) and double (the gradient check):
//   x = token_embd[token]
//   per layer: h = rmsnorm(x) attn_norm;  q, k, v = BitLinear(h);  NEOX RoPE on q, k
//              a = causal GQA softmax(q k^T / sqrt(head_dim)) v;  a = rmsnorm(a) attn_sub_norm
//              x += BitLinear_o(a);  h = rmsnorm(x) ffn_norm
//              f = relu(BitLinear_gate(h))^2 * BitLinear_up(h);  f = rmsnorm(f) ffn_sub_norm
//              x += BitLinear_down(f)
//   logits = token_embd . (rmsnorm(x) output_norm)            (tied embedding, float)
// BitLinear with quantization on: y = Q_a(x) . Q_w(W)^T with the quantizers of quantizers.h and
// straight-through gradients; with it off (the gradient check), y = x . W^T.
#pragma once

#include <cstdint>
#include <vector>

#include "train/model_shape.h"

namespace bitnet::train {

template <class T> class Transformer {
public:
    explicit Transformer(const ModelShape &shape);

    const ModelShape &shape() const { return shape_; }
    const ParameterLayout &layout() const { return layout_; }

    // Mean cross-entropy (nats per token) of predicting targets[i] after tokens[0..i] within each
    // of `n_seq` sequences of `seq_len` tokens (both arrays n_seq * seq_len long). When
    // `gradients` is not null it receives d(loss)/d(parameter) for every parameter (overwritten).
    double loss(const T *parameters, const int32_t *tokens, const int32_t *targets, int n_seq, int seq_len,
                bool quantize, T *gradients);

    // The logits of every position (n_seq * seq_len rows of n_vocab) of the last loss() or
    // forward() call.
    const std::vector<T> &logits() const { return logits_; }
    void forward(const T *parameters, const int32_t *tokens, int n_seq, int seq_len, bool quantize);

private:
    struct LayerActivations {
        std::vector<T> x_in, h1, r1, h1q, q, k, v, probs, att, r_sub, a2, a2q, x_mid, h2, r2, h2q, g, u, f, r_f, f2, f2q;
        std::vector<T> w_eff[kLayerTensorCount];  // the (ternarized) weights the forward pass used
    };

    void bitlinear_weights(const T *parameters, int layer, bool quantize);
    void backward(const T *parameters, const int32_t *tokens, T *gradients);

    ModelShape shape_;
    ParameterLayout layout_;
    int n_seq_ = 0, seq_len_ = 0, n_rows_ = 0;
    bool quantize_ = false;
    std::vector<T> rope_cos_, rope_sin_;  // seq_len x head_dim/2
    std::vector<LayerActivations> layers_;
    std::vector<T> x_final_in_, r_final_, x_final_, logits_, dlogits_;
};

extern template class Transformer<float>;
extern template class Transformer<double>;

}  // namespace bitnet::train
