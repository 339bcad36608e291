#include "speculative/sampling_distribution.h"

#include <cmath>

#include "sampler/candidates.h"
#include "sampler/chain.h"
#include "util/error.h"

namespace bitnet::speculative {

SamplingDistribution::SamplingDistribution(bitnet_sampler &sampler, const char *function) : function_(function) {
    bitnet_sampler *last = &sampler;
    // A chain's members before its last one transform; the last one selects, or is itself a chain
    // whose last member does.
    while (const sampling::SamplerChain *chain = sampling::as_chain(last)) {
        if (chain->size() == 0) break;
        for (size_t i = 0; i + 1 < chain->size(); ++i) transforms_.push_back(chain->member(i));
        last = chain->member(chain->size() - 1);
    }
    selection_ = last->selection();
    random_stream_ = last->random_stream();
    if (selection_ == bitnet_sampler::Selection::opaque) {
        fail(BITNET_ERR_UNSUPPORTED,
             "%s: speculative sampling needs the distribution the sampler draws from: a greedy or dist sampler, or a "
             "chain ending with one (this one ends with '%s')",
             function, last->name());
    }
}

void SamplingDistribution::compute(const float *logits, int32_t n_vocab, std::vector<float> &probabilities) {
    const size_t n = static_cast<size_t>(n_vocab);
    candidates_.resize(n);
    for (size_t i = 0; i < n; ++i) {
        if (!(logits[i] < INFINITY)) {
            fail(BITNET_ERR_INVALID_INPUT, "%s: the logit of token %zu is %s", function_, i,
                 std::isnan(logits[i]) ? "NaN" : "+infinity");
        }
        candidates_[i] = {static_cast<bitnet_token>(i), logits[i], 0.0f};
    }
    bitnet_token_data_array candidates{candidates_.data(), n, -1, false};
    for (bitnet_sampler *member : transforms_) member->apply(candidates);
    sampling::require_no_nan(candidates, function_);
    if (candidates.size == 0) fail(BITNET_ERR_INVALID_INPUT, "%s: the sampler left no candidates", function_);
    probabilities.assign(n, 0.0f);
    if (greedy()) {
        const bitnet_token best = candidates.data[sampling::best_index(candidates)].id;
        if (best < 0 || best >= n_vocab) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "%s: a sampler left token id %d, outside the vocabulary (0..%d)",
                 function_, best, n_vocab - 1);
        }
        probabilities[static_cast<size_t>(best)] = 1.0f;
        return;
    }
    const double total = sampling::softmax(candidates, function_);
    for (size_t i = 0; i < candidates.size; ++i) {
        const bitnet_token id = candidates.data[i].id;
        // A custom member may rewrite ids; one outside the vocabulary would index past the row.
        if (id < 0 || id >= n_vocab) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "%s: a sampler left token id %d, outside the vocabulary (0..%d)",
                 function_, id, n_vocab - 1);
        }
        probabilities[static_cast<size_t>(id)] += static_cast<float>(candidates.data[i].p / total);
    }
}

}  // namespace bitnet::speculative
