// The acceptance rule of speculative sampling (Leviathan et al. 2023, "Fast Inference from
// Transformers via Speculative Decoding", Algorithm 1; Chen et al. 2023, "Accelerating Large
// Language Model Decoding with Speculative Sampling"): a token x drafted from q is kept with
// probability min(1, p(x) / q(x)); when it is not, the token is drawn from
// normalize(max(0, p - q)). The kept-or-replaced token then has distribution p exactly. A point
// mass q (prompt lookup) is the case q(x) = 1: keep x with probability p(x), else draw from p
// without x.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "bitnet.h"

namespace bitnet::speculative {

class AcceptanceRule {
public:
    explicit AcceptanceRule(uint32_t seed);
    AcceptanceRule(const AcceptanceRule &) = delete;  // stream_ may point at own_
    AcceptanceRule &operator=(const AcceptanceRule &) = delete;

    // Draw from `stream` (the sampler's own, see bitnet_sampler::random_stream) from now on, or
    // from the rule's seeded stream when it is nullptr (a greedy sampler, whose rows are one-hot,
    // so the draws cannot change a token).
    void use_stream(std::mt19937 *stream) { stream_ = stream ? stream : &own_; }

    // Whether drafted token `x` is kept. `q` is the draft's row over the vocabulary, or nullptr
    // for a point mass on x.
    bool keep(const std::vector<float> &p, bitnet_token x, const float *q);

    // The replacement after `x` was rejected: a draw from normalize(max(0, p - q)).
    bitnet_token replacement(const std::vector<float> &p, bitnet_token x, const float *q);

    // A draw from the row `weights` (non-negative, any positive sum) of n tokens.
    bitnet_token draw(const float *weights, size_t n);

private:
    double uniform();  // in [0, 1)

    std::mt19937 own_;
    std::mt19937 *stream_ = &own_;
    std::vector<float> residual_;
};

}  // namespace bitnet::speculative
