// The probability distribution a sampler chain draws its next token from, as a dense row over the
// vocabulary. Speculative sampling (lib/speculative/speculative.cpp) needs p itself, not one
// draw from it: the chain's members up to its final selector shape the candidates (with their
// history: penalties count the tokens accepted so far), and the selector says how a token is
// drawn from what is left: greedy is a point mass on the best-ranked candidate, dist the softmax
// of the remaining logits.
#pragma once

#include <cstdint>
#include <vector>

#include "bitnet.h"
#include "sampler/sampler.h"

namespace bitnet::speculative {

class SamplingDistribution {
public:
    // Splits `sampler` into its transforming members and its final selector. Throws
    // BITNET_ERR_UNSUPPORTED, naming `function`, unless it is a greedy or dist sampler or a chain
    // (chains nested in its last place included) ending with one.
    SamplingDistribution(bitnet_sampler &sampler, const char *function);

    // p over all n_vocab tokens for `logits` (probabilities summing to 1; 0 for dropped tokens).
    // Throws BITNET_ERR_INVALID_INPUT for a NaN or +infinity logit or when no candidate is left.
    void compute(const float *logits, int32_t n_vocab, std::vector<float> &probabilities);

    bool greedy() const { return selection_ == bitnet_sampler::Selection::highest_logit; }

    // The selecting member's random stream (a dist sampler's), or nullptr (greedy).
    std::mt19937 *random_stream() const { return random_stream_; }

private:
    std::vector<bitnet_sampler *> transforms_;
    bitnet_sampler::Selection selection_ = bitnet_sampler::Selection::opaque;
    std::mt19937 *random_stream_ = nullptr;
    std::vector<bitnet_token_data> candidates_;
    const char *function_;
};

}  // namespace bitnet::speculative
