#include "train/transformer.h"

#include <algorithm>
#include <cmath>

#include "train/layer_ops.h"
#include "util/error.h"

namespace bitnet::train {

template <class T> Transformer<T>::Transformer(const ModelShape &shape) : shape_(shape) {
    check_shape(shape_);
    layout_ = ParameterLayout::of(shape_);
    layers_.resize(static_cast<size_t>(shape_.n_layer));
}

template <class T> void Transformer<T>::bitlinear_weights(const T *parameters, int layer, bool quantize) {
    for (int t = 0; t < kLayerTensorCount; ++t) {
        const ParameterView &view = layout_.layers[layer][t];
        if (!view.projection) continue;
        std::vector<T> &w = layers_[layer].w_eff[t];
        w.resize(view.size());
        if (quantize) {
            ternarize(parameters + view.offset, view.size(), w.data());
        } else {
            std::copy(parameters + view.offset, parameters + view.offset + view.size(), w.begin());
        }
    }
}

template <class T> void Transformer<T>::forward(const T *parameters, const int32_t *tokens, int n_seq, int seq_len,
                                                bool quantize) {
    if (n_seq <= 0 || seq_len <= 0) fail(BITNET_ERR_INVALID_ARGUMENT, "train: empty batch");
    const ModelShape &s = shape_;
    const int n = n_seq * seq_len, d = s.n_embd, kv = s.kv_dim(), ff = s.n_ff, hd = s.head_dim();
    n_seq_ = n_seq, seq_len_ = seq_len, n_rows_ = n, quantize_ = quantize;

    const int half = hd / 2;
    rope_cos_.resize(static_cast<size_t>(seq_len) * half);
    rope_sin_.resize(rope_cos_.size());
    for (int pos = 0; pos < seq_len; ++pos) {
        for (int i = 0; i < half; ++i) {
            const double theta = pos * std::pow(static_cast<double>(s.rope_freq_base), -2.0 * i / hd);
            rope_cos_[pos * half + i] = static_cast<T>(std::cos(theta));
            rope_sin_[pos * half + i] = static_cast<T>(std::sin(theta));
        }
    }

    std::vector<T> x(static_cast<size_t>(n) * d);
    const T *embedding = parameters + layout_.token_embd.offset;
    for (int row = 0; row < n; ++row) {
        const int32_t token = tokens[row];
        if (token < 0 || token >= s.n_vocab) fail(BITNET_ERR_INVALID_ARGUMENT, "train: token %d is outside the vocabulary", token);
        std::copy(embedding + static_cast<int64_t>(token) * d, embedding + static_cast<int64_t>(token + 1) * d,
                  x.begin() + static_cast<int64_t>(row) * d);
    }

    const T eps = static_cast<T>(s.rms_eps);
    for (int l = 0; l < s.n_layer; ++l) {
        LayerActivations &a = layers_[l];
        const std::vector<ParameterView> &p = layout_.layers[l];
        auto param = [&](int t) { return parameters + p[t].offset; };
        bitlinear_weights(parameters, l, quantize);
        auto sized = [](std::vector<T> &v, int64_t count) { v.resize(static_cast<size_t>(count)); };
        a.x_in = x;
        sized(a.h1, int64_t(n) * d), sized(a.r1, n), sized(a.h1q, int64_t(n) * d);
        sized(a.q, int64_t(n) * d), sized(a.k, int64_t(n) * kv), sized(a.v, int64_t(n) * kv);
        sized(a.probs, int64_t(n_seq) * s.n_head * seq_len * seq_len), sized(a.att, int64_t(n) * d);
        sized(a.r_sub, n), sized(a.a2, int64_t(n) * d), sized(a.a2q, int64_t(n) * d);
        sized(a.h2, int64_t(n) * d), sized(a.r2, n), sized(a.h2q, int64_t(n) * d);
        sized(a.g, int64_t(n) * ff), sized(a.u, int64_t(n) * ff), sized(a.f, int64_t(n) * ff);
        sized(a.r_f, n), sized(a.f2, int64_t(n) * ff), sized(a.f2q, int64_t(n) * ff);

        rms_norm_forward(x.data(), param(kAttnNorm), n, d, eps, a.r1.data(), a.h1.data());
        bitlinear_input(a.h1.data(), n, d, quantize, a.h1q.data());
        bitlinear_forward(a.h1q.data(), a.w_eff[kWq].data(), n, d, d, a.q.data());
        bitlinear_forward(a.h1q.data(), a.w_eff[kWk].data(), n, d, kv, a.k.data());
        bitlinear_forward(a.h1q.data(), a.w_eff[kWv].data(), n, d, kv, a.v.data());
        rope_apply(a.q.data(), n_seq, seq_len, s.n_head, hd, rope_cos_.data(), rope_sin_.data(), 1);
        rope_apply(a.k.data(), n_seq, seq_len, s.n_head_kv, hd, rope_cos_.data(), rope_sin_.data(), 1);
        attention_forward(a.q.data(), a.k.data(), a.v.data(), n_seq, seq_len, s.n_head, s.n_head_kv, hd, a.probs.data(),
                          a.att.data());
        rms_norm_forward(a.att.data(), param(kAttnSubNorm), n, d, eps, a.r_sub.data(), a.a2.data());
        bitlinear_input(a.a2.data(), n, d, quantize, a.a2q.data());
        std::vector<T> projected(static_cast<size_t>(n) * d);
        bitlinear_forward(a.a2q.data(), a.w_eff[kWo].data(), n, d, d, projected.data());
        for (size_t i = 0; i < x.size(); ++i) x[i] += projected[i];
        a.x_mid = x;

        rms_norm_forward(x.data(), param(kFfnNorm), n, d, eps, a.r2.data(), a.h2.data());
        bitlinear_input(a.h2.data(), n, d, quantize, a.h2q.data());
        bitlinear_forward(a.h2q.data(), a.w_eff[kWgate].data(), n, d, ff, a.g.data());
        bitlinear_forward(a.h2q.data(), a.w_eff[kWup].data(), n, d, ff, a.u.data());
        for (size_t i = 0; i < a.f.size(); ++i) {
            const T relu = std::max(a.g[i], T(0));
            a.f[i] = relu * relu * a.u[i];
        }
        rms_norm_forward(a.f.data(), param(kFfnSubNorm), n, ff, eps, a.r_f.data(), a.f2.data());
        bitlinear_input(a.f2.data(), n, ff, quantize, a.f2q.data());
        bitlinear_forward(a.f2q.data(), a.w_eff[kWdown].data(), n, ff, d, projected.data());
        for (size_t i = 0; i < x.size(); ++i) x[i] += projected[i];
    }

    x_final_in_ = x;
    r_final_.resize(n);
    x_final_.resize(x.size());
    rms_norm_forward(x.data(), parameters + layout_.output_norm.offset, n, d, eps, r_final_.data(), x_final_.data());
    logits_.resize(static_cast<size_t>(n) * s.n_vocab);
    gemm(false, true, n, s.n_vocab, d, T(1), x_final_.data(), d, embedding, d, T(0), logits_.data(), s.n_vocab);
}

template <class T> double Transformer<T>::loss(const T *parameters, const int32_t *tokens, const int32_t *targets,
                                               int n_seq, int seq_len, bool quantize, T *gradients) {
    forward(parameters, tokens, n_seq, seq_len, quantize);
    const int n = n_rows_, vocab = shape_.n_vocab;
    dlogits_.resize(logits_.size());
    double total = 0.0;
#pragma omp parallel for reduction(+ : total)
    for (int row = 0; row < n; ++row) {
        const int32_t target = targets[row];
        if (target < 0 || target >= vocab) continue;  // checked below, outside the parallel loop
        const T *lr = logits_.data() + static_cast<int64_t>(row) * vocab;
        T *dr = dlogits_.data() + static_cast<int64_t>(row) * vocab;
        const T max_logit = *std::max_element(lr, lr + vocab);
        double sum = 0.0;
        for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(lr[i] - max_logit));
        total += std::log(sum) - static_cast<double>(lr[target] - max_logit);
        // d(mean loss)/d(logit) = (softmax - onehot) / n
        for (int i = 0; i < vocab; ++i) dr[i] = static_cast<T>(std::exp(static_cast<double>(lr[i] - max_logit)) / sum / n);
        dr[target] -= static_cast<T>(1.0 / n);
    }
    for (int row = 0; row < n; ++row) {
        if (targets[row] < 0 || targets[row] >= vocab) fail(BITNET_ERR_INVALID_ARGUMENT, "train: target %d is outside the vocabulary", targets[row]);
    }
    if (gradients) backward(parameters, tokens, gradients);
    return total / n;
}

template <class T> void Transformer<T>::backward(const T *parameters, const int32_t *tokens, T *gradients) {
    const ModelShape &s = shape_;
    const int n = n_rows_, d = s.n_embd, kv = s.kv_dim(), ff = s.n_ff, hd = s.head_dim();
    std::fill(gradients, gradients + layout_.total, T(0));
    const T *embedding = parameters + layout_.token_embd.offset;
    T *d_embedding = gradients + layout_.token_embd.offset;

    // lm_head (tied): logits = x_final E^T
    gemm(true, false, s.n_vocab, d, n, T(1), dlogits_.data(), s.n_vocab, x_final_.data(), d, T(1), d_embedding, d);
    std::vector<T> d_final(static_cast<size_t>(n) * d);
    gemm(false, false, n, d, s.n_vocab, T(1), dlogits_.data(), s.n_vocab, embedding, d, T(0), d_final.data(), d);
    std::vector<T> dx(static_cast<size_t>(n) * d);  // gradient of the residual stream
    rms_norm_backward(x_final_in_.data(), parameters + layout_.output_norm.offset, r_final_.data(), d_final.data(), n, d,
                      dx.data(), gradients + layout_.output_norm.offset);

    std::vector<T> d_big(static_cast<size_t>(n) * ff), d_big2(static_cast<size_t>(n) * ff), d_small(static_cast<size_t>(n) * d);
    std::vector<T> d_g(static_cast<size_t>(n) * ff), d_u(static_cast<size_t>(n) * ff);
    std::vector<T> dq(static_cast<size_t>(n) * d), dk(static_cast<size_t>(n) * kv), dv(static_cast<size_t>(n) * kv);
    for (int l = s.n_layer - 1; l >= 0; --l) {
        LayerActivations &a = layers_[l];
        const std::vector<ParameterView> &p = layout_.layers[l];
        auto param = [&](int t) { return parameters + p[t].offset; };
        auto grad = [&](int t) { return gradients + p[t].offset; };

        // x = x_mid + W_down f2q: dx flows to x_mid unchanged, and through the FFN.
        bitlinear_backward(a.f2q.data(), a.w_eff[kWdown].data(), dx.data(), n, ff, d, d_big.data(), grad(kWdown), false);
        rms_norm_backward(a.f.data(), param(kFfnSubNorm), a.r_f.data(), d_big.data(), n, ff, d_big2.data(), grad(kFfnSubNorm));
        for (size_t i = 0; i < d_g.size(); ++i) {
            const T relu = std::max(a.g[i], T(0));
            d_u[i] = d_big2[i] * relu * relu;
            d_g[i] = d_big2[i] * a.u[i] * 2 * relu;  // d relu(g)^2 / dg = 2 relu(g)
        }
        bitlinear_backward(a.h2q.data(), a.w_eff[kWgate].data(), d_g.data(), n, d, ff, d_small.data(), grad(kWgate), false);
        bitlinear_backward(a.h2q.data(), a.w_eff[kWup].data(), d_u.data(), n, d, ff, d_small.data(), grad(kWup), true);
        std::vector<T> d_norm_in(static_cast<size_t>(n) * d);
        rms_norm_backward(a.x_mid.data(), param(kFfnNorm), a.r2.data(), d_small.data(), n, d, d_norm_in.data(), grad(kFfnNorm));
        for (size_t i = 0; i < dx.size(); ++i) dx[i] += d_norm_in[i];

        // x_mid = x_in + W_o a2q
        bitlinear_backward(a.a2q.data(), a.w_eff[kWo].data(), dx.data(), n, d, d, d_small.data(), grad(kWo), false);
        std::vector<T> d_att(static_cast<size_t>(n) * d);
        rms_norm_backward(a.att.data(), param(kAttnSubNorm), a.r_sub.data(), d_small.data(), n, d, d_att.data(), grad(kAttnSubNorm));
        attention_backward(a.q.data(), a.k.data(), a.v.data(), a.probs.data(), d_att.data(), n_seq_, seq_len_, s.n_head,
                           s.n_head_kv, hd, dq.data(), dk.data(), dv.data());
        // RoPE is a rotation: its backward is the inverse rotation of the gradient.
        rope_apply(dq.data(), n_seq_, seq_len_, s.n_head, hd, rope_cos_.data(), rope_sin_.data(), -1);
        rope_apply(dk.data(), n_seq_, seq_len_, s.n_head_kv, hd, rope_cos_.data(), rope_sin_.data(), -1);
        bitlinear_backward(a.h1q.data(), a.w_eff[kWq].data(), dq.data(), n, d, d, d_small.data(), grad(kWq), false);
        bitlinear_backward(a.h1q.data(), a.w_eff[kWk].data(), dk.data(), n, d, kv, d_small.data(), grad(kWk), true);
        bitlinear_backward(a.h1q.data(), a.w_eff[kWv].data(), dv.data(), n, d, kv, d_small.data(), grad(kWv), true);
        rms_norm_backward(a.x_in.data(), param(kAttnNorm), a.r1.data(), d_small.data(), n, d, d_norm_in.data(), grad(kAttnNorm));
        for (size_t i = 0; i < dx.size(); ++i) dx[i] += d_norm_in[i];
    }

    // Embedding lookup: serial, since rows of repeated tokens add into the same gradient row.
    for (int row = 0; row < n; ++row) {
        T *dst = d_embedding + static_cast<int64_t>(tokens[row]) * d;
        const T *src = dx.data() + static_cast<int64_t>(row) * d;
        for (int i = 0; i < d; ++i) dst[i] += src[i];
    }
}

template class Transformer<float>;
template class Transformer<double>;

}  // namespace bitnet::train
