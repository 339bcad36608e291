#include "sampler/candidates.h"

#include <algorithm>

#include "util/error.h"

namespace bitnet::sampling {

size_t best_index(const bitnet_token_data_array &candidates) {
    size_t best = 0;
    for (size_t i = 1; i < candidates.size; ++i) {
        if (ranks_before(candidates.data[i], candidates.data[best])) best = i;
    }
    return best;
}

float max_logit(const bitnet_token_data_array &candidates) {
    if (candidates.sorted) return rank_key(candidates.data[0].logit);
    float best = -INFINITY;
    for (size_t i = 0; i < candidates.size; ++i) best = std::max(best, rank_key(candidates.data[i].logit));
    return best;
}

void extend_sorted_prefix(bitnet_token_data_array &candidates, size_t from, size_t to) {
    bitnet_token_data *data = candidates.data;
    to = std::min(to, candidates.size);
    if (from >= to) return;
    if (to == candidates.size) {
        std::sort(data + from, data + to, ranks_before);
        candidates.sorted = true;
    } else {
        std::partial_sort(data + from, data + to, data + candidates.size, ranks_before);
    }
}

void sort_top(bitnet_token_data_array &candidates, size_t k) {
    if (candidates.sorted) return;
    extend_sorted_prefix(candidates, 0, k);
}

double softmax(bitnet_token_data_array &candidates, const char *sampler) {
    const float max = max_logit(candidates);
    if (!std::isfinite(max)) {
        fail(BITNET_ERR_INVALID_INPUT, "sampler '%s': no candidate has a finite logit (all are -infinity or NaN)",
             sampler);
    }
    double sum = 0.0;
    for (size_t i = 0; i < candidates.size; ++i) {
        float e = std::exp(rank_key(candidates.data[i].logit) - max);
        candidates.data[i].p = e;
        sum += e;
    }
    const float scale = static_cast<float>(1.0 / sum);
    double total = 0.0;
    for (size_t i = 0; i < candidates.size; ++i) {
        candidates.data[i].p *= scale;
        total += candidates.data[i].p;
    }
    return total;
}

}  // namespace bitnet::sampling
