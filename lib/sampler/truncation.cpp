// The members that drop unlikely candidates: top-k, top-p, min-p and typical-p.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sampler/candidates.h"
#include "sampler/samplers.h"

namespace bitnet::sampling {
namespace {

// Every truncating member keeps at least one candidate.
size_t at_least_one(size_t min_keep) { return std::max<size_t>(min_keep, 1); }

class TopKSampler final : public bitnet_sampler {
public:
    explicit TopKSampler(int32_t k) : k_(k) {}

    const char *name() const override { return "top-k"; }

    void apply(bitnet_token_data_array &candidates) override {
        if (k_ <= 0 || candidates.size == 0) return;
        // A partial sort: O(n log k) instead of sorting the whole vocabulary.
        const size_t k = std::min(static_cast<size_t>(k_), candidates.size);
        sort_top(candidates, k);
        candidates.size = k;
        candidates.sorted = true;
        candidates.selected = -1;
    }

private:
    int32_t k_;
};

class TopPSampler final : public bitnet_sampler {
public:
    TopPSampler(float p, size_t min_keep) : p_(p), min_keep_(at_least_one(min_keep)) {}

    const char *name() const override { return "top-p"; }

    void apply(bitnet_token_data_array &candidates) override {
        if (p_ >= 1.0f || candidates.size <= 1) return;
        softmax(candidates, name());
        // Sort only as far as the running sum needs: a prefix that doubles until it suffices,
        // so a peaked distribution over the whole vocabulary costs a few linear passes.
        size_t sorted_prefix = candidates.sorted ? candidates.size : 0;
        size_t keep = candidates.size;
        double cumulative = 0.0;
        for (size_t i = 0; i < candidates.size; ++i) {
            if (i == sorted_prefix) {
                size_t next = std::max<size_t>(2 * sorted_prefix, 64);
                extend_sorted_prefix(candidates, sorted_prefix, next);
                sorted_prefix = std::min(next, candidates.size);
            }
            cumulative += candidates.data[i].p;
            if (cumulative >= p_ && i + 1 >= min_keep_) {
                keep = i + 1;
                break;
            }
        }
        candidates.size = keep;
        candidates.sorted = true;
        candidates.selected = -1;
    }

private:
    float p_;
    size_t min_keep_;
};

class MinPSampler final : public bitnet_sampler {
public:
    MinPSampler(float p, size_t min_keep) : p_(p), min_keep_(at_least_one(min_keep)) {}

    const char *name() const override { return "min-p"; }

    void apply(bitnet_token_data_array &candidates) override {
        if (p_ <= 0.0f || candidates.size <= 1) return;
        // p_i >= p * p_max  <=>  logit_i >= max_logit + log(p): no softmax needed.
        const float threshold = max_logit(candidates) + std::log(p_);
        const size_t min_keep = std::min(min_keep_, candidates.size);
        bitnet_token_data *data = candidates.data;
        if (candidates.sorted) {
            size_t keep = min_keep;
            while (keep < candidates.size && data[keep].logit >= threshold) ++keep;
            candidates.size = keep;
        } else {
            size_t passing = 0;
            for (size_t i = 0; i < candidates.size; ++i) passing += data[i].logit >= threshold;
            if (passing >= min_keep) {
                // Compact in place, keeping the candidates' order.
                size_t kept = 0;
                for (size_t i = 0; i < candidates.size; ++i) {
                    if (data[i].logit >= threshold) data[kept++] = data[i];
                }
                candidates.size = kept;
            } else {
                sort_top(candidates, min_keep);
                candidates.size = min_keep;
                candidates.sorted = true;
            }
        }
        candidates.selected = -1;
    }

private:
    float p_;
    size_t min_keep_;
};

class TypicalSampler final : public bitnet_sampler {
public:
    TypicalSampler(float p, size_t min_keep) : p_(p), min_keep_(at_least_one(min_keep)) {}

    const char *name() const override { return "typical"; }

    void apply(bitnet_token_data_array &candidates) override {
        if (p_ >= 1.0f || candidates.size <= 1) return;
        softmax(candidates, name());
        double entropy = 0.0;
        for (size_t i = 0; i < candidates.size; ++i) {
            const double p = candidates.data[i].p;
            if (p > 0.0) entropy -= p * std::log(p);
        }
        // How far each candidate's information is from the entropy; zero-probability ones are
        // infinitely far and come last.
        distance_.resize(candidates.size);
        order_.resize(candidates.size);
        for (size_t i = 0; i < candidates.size; ++i) {
            const double p = candidates.data[i].p;
            distance_[i] = p > 0.0 ? std::fabs(-std::log(p) - entropy) : INFINITY;
            order_[i] = i;
        }
        auto closer = [this](size_t a, size_t b) {
            return distance_[a] < distance_[b] || (distance_[a] == distance_[b] && a < b);
        };
        // As in top-p, sort only the prefix that the running sum reaches.
        size_t sorted_prefix = 0;
        size_t keep = candidates.size;
        double cumulative = 0.0;
        for (size_t i = 0; i < order_.size(); ++i) {
            if (i == sorted_prefix) {
                size_t next = std::min(std::max<size_t>(2 * sorted_prefix, 64), order_.size());
                std::partial_sort(order_.begin() + sorted_prefix, order_.begin() + next, order_.end(), closer);
                sorted_prefix = next;
            }
            cumulative += candidates.data[order_[i]].p;
            if (cumulative > p_ && i + 1 >= min_keep_) {
                keep = i + 1;
                break;
            }
        }
        reordered_.resize(keep);
        for (size_t i = 0; i < keep; ++i) reordered_[i] = candidates.data[order_[i]];
        std::copy(reordered_.begin(), reordered_.end(), candidates.data);
        candidates.size = keep;
        candidates.sorted = false;
        candidates.selected = -1;
    }

private:
    float p_;
    size_t min_keep_;
    // Scratch reused between calls.
    std::vector<double> distance_;
    std::vector<size_t> order_;
    std::vector<bitnet_token_data> reordered_;
};

}  // namespace

std::unique_ptr<bitnet_sampler> make_top_k(int32_t k) { return std::make_unique<TopKSampler>(k); }
std::unique_ptr<bitnet_sampler> make_top_p(float p, size_t min_keep) { return std::make_unique<TopPSampler>(p, min_keep); }
std::unique_ptr<bitnet_sampler> make_min_p(float p, size_t min_keep) { return std::make_unique<MinPSampler>(p, min_keep); }
std::unique_ptr<bitnet_sampler> make_typical(float p, size_t min_keep) {
    return std::make_unique<TypicalSampler>(p, min_keep);
}

}  // namespace bitnet::sampling
