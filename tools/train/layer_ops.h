// The building blocks of transformer.cpp, forward and backward, for float and double. Row-major
// activations: `n` rows (tokens) of `dim` values. Backward functions add into parameter gradients
// and write (or, where noted, add into) input gradients.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "train/blas.h"
#include "train/quantizers.h"

namespace bitnet::train {

// y = x / sqrt(mean(x^2) + eps) * w; keeps r = 1 / sqrt(mean(x^2) + eps) per row for backward.
template <class T> void rms_norm_forward(const T *x, const T *w, int n, int dim, T eps, T *r, T *y) {
#pragma omp parallel for
    for (int row = 0; row < n; ++row) {
        const T *xr = x + static_cast<int64_t>(row) * dim;
        T *yr = y + static_cast<int64_t>(row) * dim;
        double sum = 0.0;
        for (int i = 0; i < dim; ++i) sum += static_cast<double>(xr[i]) * xr[i];
        const T inv = static_cast<T>(1.0 / std::sqrt(sum / dim + eps));
        r[row] = inv;
        for (int i = 0; i < dim; ++i) yr[i] = xr[i] * inv * w[i];
    }
}

// dx = r (dy w) - x r^3 / dim * sum(dy w x);  dw += sum over rows of dy x r.
template <class T> void rms_norm_backward(const T *x, const T *w, const T *r, const T *dy, int n, int dim, T *dx, T *dw) {
#pragma omp parallel for
    for (int row = 0; row < n; ++row) {
        const T *xr = x + static_cast<int64_t>(row) * dim;
        const T *dyr = dy + static_cast<int64_t>(row) * dim;
        T *dxr = dx + static_cast<int64_t>(row) * dim;
        double dot = 0.0;
        for (int i = 0; i < dim; ++i) dot += static_cast<double>(dyr[i]) * w[i] * xr[i];
        const T inv = r[row];
        const T coefficient = static_cast<T>(dot * inv * inv * inv / dim);
        for (int i = 0; i < dim; ++i) dxr[i] = inv * dyr[i] * w[i] - xr[i] * coefficient;
    }
    // Column sums in a second pass: a race-free reduction without per-thread copies.
#pragma omp parallel for
    for (int i = 0; i < dim; ++i) {
        T sum = 0;
        for (int row = 0; row < n; ++row) {
            sum += dy[static_cast<int64_t>(row) * dim + i] * x[static_cast<int64_t>(row) * dim + i] * r[row];
        }
        dw[i] += sum;
    }
}

// BitLinear input: the per-token int8 activations (dequantized) or, unquantized, a copy.
template <class T> void bitlinear_input(const T *x, int n, int dim, bool quantize, T *out) {
#pragma omp parallel for
    for (int row = 0; row < n; ++row) {
        const T *xr = x + static_cast<int64_t>(row) * dim;
        T *outr = out + static_cast<int64_t>(row) * dim;
        if (quantize) {
            quantize_activation_row(xr, dim, outr);
        } else {
            for (int i = 0; i < dim; ++i) outr[i] = xr[i];
        }
    }
}

// y[n, out] = xq[n, in] . W[out, in]^T.
template <class T> void bitlinear_forward(const T *xq, const T *w, int n, int in, int out, T *y) {
    gemm(false, true, n, out, in, T(1), xq, in, w, in, T(0), y, out);
}

// Straight-through backward: dW += dy^T xq;  dx (+)= dy W  (add when `accumulate`).
template <class T> void bitlinear_backward(const T *xq, const T *w, const T *dy, int n, int in, int out, T *dx, T *dw,
                                           bool accumulate) {
    gemm(true, false, out, in, n, T(1), dy, out, xq, in, T(1), dw, in);
    gemm(false, false, n, in, out, T(1), dy, out, w, in, accumulate ? T(1) : T(0), dx, in);
}

// NEOX RoPE (formats.md §2.7): within each head, pairs (i, i + head_dim/2) rotate by
// position * base^(-2i/head_dim). `direction` -1 applies the inverse rotation (the backward pass).
template <class T> void rope_apply(T *x, int n_seq, int seq_len, int n_heads, int head_dim, const T *cos_table,
                                   const T *sin_table, int direction) {
    const int half = head_dim / 2;
    const int n = n_seq * seq_len;
#pragma omp parallel for
    for (int row = 0; row < n; ++row) {
        const int position = row % seq_len;
        T *xr = x + static_cast<int64_t>(row) * n_heads * head_dim;
        for (int h = 0; h < n_heads; ++h) {
            T *head = xr + h * head_dim;
            for (int i = 0; i < half; ++i) {
                const T c = cos_table[position * half + i];
                const T s = direction * sin_table[position * half + i];
                const T a = head[i], b = head[i + half];
                head[i] = a * c - b * s;
                head[i + half] = a * s + b * c;
            }
        }
    }
}

// Causal grouped-query attention. q: [n, n_head*hd], k, v: [n, n_kv*hd], out: [n, n_head*hd],
// probs: [n_seq, n_head, S, S] kept for backward. Query head h reads key/value head
// h / (n_head / n_kv), the llama convention. The matrix products go through BLAS, one
// (sequence, head) at a time; OpenBLAS threads each product.
template <class T> void attention_forward(const T *q, const T *k, const T *v, int n_seq, int seq_len, int n_head,
                                          int n_kv, int hd, T *probs, T *out) {
    const int dim = n_head * hd, kv_dim = n_kv * hd, group = n_head / n_kv;
    const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(hd)));
    for (int b = 0; b < n_seq; ++b) {
        for (int h = 0; h < n_head; ++h) {
            const int64_t row0 = static_cast<int64_t>(b) * seq_len;
            T *p = probs + (static_cast<int64_t>(b) * n_head + h) * seq_len * seq_len;
            const T *qh = q + row0 * dim + h * hd;
            const T *kh = k + row0 * kv_dim + (h / group) * hd;
            const T *vh = v + row0 * kv_dim + (h / group) * hd;
            gemm(false, true, seq_len, seq_len, hd, scale, qh, dim, kh, kv_dim, T(0), p, seq_len);
#pragma omp parallel for
            for (int i = 0; i < seq_len; ++i) {
                T *pr = p + static_cast<int64_t>(i) * seq_len;
                T max_score = pr[0];
                for (int j = 1; j <= i; ++j) max_score = std::max(max_score, pr[j]);
                double sum = 0.0;
                for (int j = 0; j <= i; ++j) {
                    pr[j] = static_cast<T>(std::exp(pr[j] - max_score));
                    sum += pr[j];
                }
                const T inv = static_cast<T>(1.0 / sum);
                for (int j = 0; j <= i; ++j) pr[j] *= inv;
                for (int j = i + 1; j < seq_len; ++j) pr[j] = 0;
            }
            gemm(false, false, seq_len, hd, seq_len, T(1), p, seq_len, vh, kv_dim, T(0), out + row0 * dim + h * hd, dim);
        }
    }
}

// dq is written; dk and dv are written (zeroed first) since several query heads add into each.
template <class T> void attention_backward(const T *q, const T *k, const T *v, const T *probs, const T *dout, int n_seq,
                                           int seq_len, int n_head, int n_kv, int hd, T *dq, T *dk, T *dv) {
    const int dim = n_head * hd, kv_dim = n_kv * hd, group = n_head / n_kv;
    const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(hd)));
    std::fill(dk, dk + static_cast<int64_t>(n_seq) * seq_len * kv_dim, T(0));
    std::fill(dv, dv + static_cast<int64_t>(n_seq) * seq_len * kv_dim, T(0));
    std::vector<T> dp(static_cast<size_t>(seq_len) * seq_len);
    for (int b = 0; b < n_seq; ++b) {
        for (int h = 0; h < n_head; ++h) {
            const int64_t row0 = static_cast<int64_t>(b) * seq_len;
            const T *p = probs + (static_cast<int64_t>(b) * n_head + h) * seq_len * seq_len;
            const T *qh = q + row0 * dim + h * hd;
            const T *kh = k + row0 * kv_dim + (h / group) * hd;
            const T *vh = v + row0 * kv_dim + (h / group) * hd;
            const T *doh = dout + row0 * dim + h * hd;
            gemm(false, true, seq_len, seq_len, hd, T(1), doh, dim, vh, kv_dim, T(0), dp.data(), seq_len);
            gemm(true, false, seq_len, hd, seq_len, T(1), p, seq_len, doh, dim, T(1),
                 dv + row0 * kv_dim + (h / group) * hd, kv_dim);
            // Softmax backward: ds_ij = p_ij (dp_ij - sum_k p_ik dp_ik), in place in dp.
#pragma omp parallel for
            for (int i = 0; i < seq_len; ++i) {
                const T *pr = p + static_cast<int64_t>(i) * seq_len;
                T *dr = dp.data() + static_cast<int64_t>(i) * seq_len;
                double dot = 0.0;
                for (int j = 0; j <= i; ++j) dot += static_cast<double>(pr[j]) * dr[j];
                for (int j = 0; j < seq_len; ++j) dr[j] = j <= i ? pr[j] * (dr[j] - static_cast<T>(dot)) : T(0);
            }
            gemm(false, false, seq_len, hd, seq_len, scale, dp.data(), seq_len, kh, kv_dim, T(0), dq + row0 * dim + h * hd, dim);
            gemm(true, false, seq_len, hd, seq_len, scale, dp.data(), seq_len, qh, dim, T(1),
                 dk + row0 * kv_dim + (h / group) * hd, kv_dim);
        }
    }
}

}  // namespace bitnet::train
