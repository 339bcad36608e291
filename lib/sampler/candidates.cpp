#include "sampler/candidates.h"

#include <algorithm>

#include "util/error.h"

namespace bitnet::sampling {

size_t best_index(const bitnet_token_data_array &candidates) {
    // The best so far stays in registers rather than being reloaded through its index.
    size_t best = 0;
    bitnet_token_data leader = candidates.data[0];
    for (size_t i = 1; i < candidates.size; ++i) {
        if (ranks_before(candidates.data[i], leader)) {
            best = i;
            leader = candidates.data[i];
        }
    }
    return best;
}

float max_logit(const bitnet_token_data_array &candidates) {
    if (candidates.sorted) return candidates.data[0].logit;
    float best = -INFINITY;
    for (size_t i = 0; i < candidates.size; ++i) best = std::max(best, candidates.data[i].logit);
    return best;
}

void require_no_nan(const bitnet_token_data_array &candidates, const char *source) {
    for (size_t i = 0; i < candidates.size; ++i) {
        if (std::isnan(candidates.data[i].logit)) {
            fail(BITNET_ERR_INVALID_INPUT, "%s: the logit of candidate %zu (token %d) is NaN", source, i,
                 candidates.data[i].id);
        }
    }
}

void extend_sorted_prefix(bitnet_token_data_array &candidates, size_t from, size_t to) {
    bitnet_token_data *data = candidates.data;
    to = std::min(to, candidates.size);
    if (from >= to) return;
    const size_t rest = candidates.size - from;
    if (to == candidates.size) {
        std::sort(data + from, data + to, ranks_before);
        candidates.sorted = true;
    } else if ((to - from) * 32 < rest) {
        // A heap of the few wanted: one cheap comparison for most of the rest.
        std::partial_sort(data + from, data + to, data + candidates.size, ranks_before);
    } else {
        // Many wanted: select them in linear time, then sort only those. The ranking is a total
        // order (ids are unique), so the result is the same as the partial sort's.
        std::nth_element(data + from, data + to, data + candidates.size, ranks_before);
        std::sort(data + from, data + to, ranks_before);
    }
}

void sort_top(bitnet_token_data_array &candidates, size_t k) {
    if (candidates.sorted) return;
    extend_sorted_prefix(candidates, 0, k);
}

double softmax(bitnet_token_data_array &candidates, const char *sampler) {
    const float max = max_logit(candidates);
    if (!std::isfinite(max)) {
        fail(BITNET_ERR_INVALID_INPUT,
             "sampler '%s': the largest logit is %g: no candidate has a finite logit (all are -infinity, or one "
             "overflowed to +infinity)",
             sampler, static_cast<double>(max));
    }
    bitnet_token_data *data = candidates.data;
    const size_t n = candidates.size;
    // Four running sums break the dependency chain of one; their order is fixed, so the result is
    // too.
    double sums[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (size_t lane = 0; lane < 4; ++lane) {
            float e = std::exp(data[i + lane].logit - max);
            data[i + lane].p = e;
            sums[lane] += e;
        }
    }
    for (; i < n; ++i) {
        float e = std::exp(data[i].logit - max);
        data[i].p = e;
        sums[0] += e;
    }
    const float scale = static_cast<float>(1.0 / ((sums[0] + sums[1]) + (sums[2] + sums[3])));
    double totals[4] = {0.0, 0.0, 0.0, 0.0};
    for (i = 0; i + 4 <= n; i += 4) {
        for (size_t lane = 0; lane < 4; ++lane) {
            data[i + lane].p *= scale;
            totals[lane] += data[i + lane].p;
        }
    }
    for (; i < n; ++i) {
        data[i].p *= scale;
        totals[0] += data[i].p;
    }
    return (totals[0] + totals[1]) + (totals[2] + totals[3]);
}

}  // namespace bitnet::sampling
