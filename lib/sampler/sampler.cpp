#include "sampler/sampler.h"

#include <chrono>
#include <cmath>

#include "util/error.h"

namespace bitnet::sampling {

bitnet_token sample_logits(bitnet_sampler &sampler, const float *logits, int32_t n_vocab, const char *function) {
    const int32_t built_for = sampler.vocab_size();
    if (built_for != 0 && built_for != n_vocab) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "%s: the sampler '%s' was built for a vocabulary of %d tokens, these logits have %d (another model?)",
             function, sampler.name(), built_for, n_vocab);
    }
    const auto start = sampler.measure_time ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    const size_t n = static_cast<size_t>(n_vocab);
    // resize keeps the capacity: only the first call for a vocabulary size allocates.
    sampler.candidate_buffer.resize(n);
    bitnet_token_data *data = sampler.candidate_buffer.data();
    // Two simple loops rather than one: each vectorizes.
    bool all_valid = true;
    for (size_t i = 0; i < n; ++i) all_valid &= logits[i] < INFINITY;  // false for NaN and +infinity
    for (size_t i = 0; i < n; ++i) data[i] = {static_cast<bitnet_token>(i), logits[i], 0.0f};
    if (!all_valid) {
        for (size_t i = 0; i < n; ++i) {
            if (!(logits[i] < INFINITY)) {
                fail(BITNET_ERR_INVALID_INPUT, "%s: the logit of token %zu is %s", function, i,
                     std::isnan(logits[i]) ? "NaN" : "+infinity");
            }
        }
    }
    bitnet_token_data_array candidates{data, n, -1, false};
    sampler.apply(candidates);
    if (candidates.size == 0) fail(BITNET_ERR_INVALID_INPUT, "%s: the sampler left no candidates", function);
    if (candidates.selected < 0 || candidates.selected >= static_cast<int64_t>(candidates.size)) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "%s: the sampler '%s' selected no token: a chain must end with a selecting member "
             "(greedy, dist, or a custom sampler that sets `selected`)",
             function, sampler.name());
    }
    const bitnet_token token = candidates.data[candidates.selected].id;
    if (token < 0 || token >= n_vocab) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the sampler '%s' selected token id %d, outside the vocabulary (0..%d)",
             function, sampler.name(), token, n_vocab - 1);
    }
    sampler.accept(token);
    if (sampler.measure_time) {
        const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
        sampler.t_sample_ms += elapsed.count();
        ++sampler.n_sample;
    }
    return token;
}

}  // namespace bitnet::sampling
