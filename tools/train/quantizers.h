// The BitNet b1.58 quantizers of the forward pass (formats.md §2.4, §3.3). Their backward pass is
// the straight-through estimator: the gradient flows through as if they were the identity, and
// the latent float weights receive it (Bengio et al. 2013; BitNet b1.58, arXiv 2402.17764).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bitnet::train {

// Absmean ternary weights, per tensor: scale = max(mean|W|, 1e-5),
// W_q = clamp(round(W / scale), -1, 1) * scale (formats.md §3.3). Returns the scale.
template <class T> T ternarize(const T *weights, uint64_t n, T *out) {
    double sum = 0.0;
    for (uint64_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(weights[i]));
    const T scale = static_cast<T>(std::max(n ? sum / static_cast<double>(n) : 0.0, 1e-5));
    for (uint64_t i = 0; i < n; ++i) {
        // nearbyint rounds half to even in the default rounding mode, as torch.round does.
        const T code = std::clamp(static_cast<T>(std::nearbyint(weights[i] / scale)), T(-1), T(1));
        out[i] = code * scale;
    }
    return scale;
}

// Per-token absmax int8 activations: s = 127 / max(max|x|, 1e-5), q = clamp(round(x s), -128, 127),
// written back dequantized (q / s) so a float matrix product computes what the engine's integer
// dot computes (formats.md §2.4).
template <class T> void quantize_activation_row(const T *x, int n, T *out) {
    T max_abs = 0;
    for (int i = 0; i < n; ++i) max_abs = std::max(max_abs, static_cast<T>(std::fabs(x[i])));
    // The engine computes the multiplier as 127 / amax and stores it as a float (§2.4).
    const T multiplier = static_cast<T>(127.0 / std::max(static_cast<double>(max_abs), 1e-5));
    for (int i = 0; i < n; ++i) {
        const T q = std::clamp(static_cast<T>(std::nearbyint(x[i] * multiplier)), T(-128), T(127));
        out[i] = q / multiplier;
    }
}

}  // namespace bitnet::train
