#include "speculative/acceptance_rule.h"

#include <algorithm>

namespace bitnet::speculative {

AcceptanceRule::AcceptanceRule(uint32_t seed) : own_(seed) {}

// 53 random bits from two 32-bit draws (genrand_res53), as the dist sampler does, so the stream
// depends only on the generator, which the C++ standard pins.
double AcceptanceRule::uniform() {
    std::mt19937 &rng = *stream_;
    const uint32_t high = rng() >> 5, low = rng() >> 6;
    return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0);
}

bool AcceptanceRule::keep(const std::vector<float> &p, bitnet_token x, const float *q) {
    const double px = p[static_cast<size_t>(x)];
    const double qx = q ? q[x] : 1.0;
    // q(x) > 0 for a token drawn from q; p(x) >= q(x) keeps it for certain (no draw needed, which
    // also keeps a greedy run free of random draws).
    if (px >= qx) return true;
    return uniform() * qx < px;
}

bitnet_token AcceptanceRule::replacement(const std::vector<float> &p, bitnet_token x, const float *q) {
    const size_t n = p.size();
    residual_.resize(n);
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float drafted = q ? q[i] : (i == static_cast<size_t>(x) ? 1.0f : 0.0f);
        residual_[i] = std::max(0.0f, p[i] - drafted);
        total += residual_[i];
    }
    // A rejection means p(x) < q(x), so the residual has positive mass; only rounding can leave
    // none, and then p itself is the distribution to draw from.
    if (total <= 0.0) return draw(p.data(), n);
    return draw(residual_.data(), n);
}

bitnet_token AcceptanceRule::draw(const float *weights, size_t n) {
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) total += weights[i];
    const double target = uniform() * total;
    double cumulative = 0.0;
    size_t last_possible = 0;
    for (size_t i = 0; i < n; ++i) {
        if (weights[i] <= 0.0f) continue;
        last_possible = i;
        cumulative += weights[i];
        if (target < cumulative) return static_cast<bitnet_token>(i);
    }
    // Rounding can leave the target just past the last cumulative sum.
    return static_cast<bitnet_token>(last_possible);
}

}  // namespace bitnet::speculative
