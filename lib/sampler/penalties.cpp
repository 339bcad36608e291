// Repetition, frequency and presence penalties over a window of the last accepted tokens.
#include <algorithm>
#include <vector>

#include "sampler/candidates.h"
#include "sampler/samplers.h"

namespace bitnet::sampling {
namespace {

class PenaltiesSampler final : public bitnet_sampler {
public:
    PenaltiesSampler(int32_t last_n, float repeat, float frequency, float presence)
        : window_size_(static_cast<size_t>(last_n)), repeat_(repeat), frequency_(frequency), presence_(presence) {
        // Everything is sized by the window, never by the vocabulary, and reserved here so that
        // accept and apply do not allocate.
        window_.reserve(window_size_);
        counts_.reserve(window_size_);
        misses_.reserve(window_size_);
    }

    const char *name() const override { return "penalties"; }

    void accept(bitnet_token token) override {
        if (window_size_ == 0) return;
        if (window_.size() < window_size_) {
            window_.push_back(token);
        } else {
            forget(window_[oldest_]);
            window_[oldest_] = token;
            oldest_ = (oldest_ + 1) % window_size_;
        }
        auto entry = std::find_if(counts_.begin(), counts_.end(), [token](const TokenCount &c) { return c.token == token; });
        if (entry != counts_.end()) {
            ++entry->count;
        } else {
            counts_.push_back({token, 1});
        }
    }

    void apply(bitnet_token_data_array &candidates) override {
        if (counts_.empty() || (repeat_ == 1.0f && frequency_ == 0.0f && presence_ == 0.0f)) return;
        for_each_listed_token(candidates, counts_, misses_, [this](bitnet_token_data &candidate, const TokenCount &seen) {
            // llama.cpp's rule: shrink toward zero from either side.
            if (candidate.logit <= 0.0f) {
                candidate.logit *= repeat_;
            } else {
                candidate.logit /= repeat_;
            }
            candidate.logit -= static_cast<float>(seen.count) * frequency_ + presence_;
        });
        candidates.sorted = false;
    }

    void reset() override {
        window_.clear();
        counts_.clear();
        oldest_ = 0;
    }

private:
    struct TokenCount {
        bitnet_token token;
        int32_t count;
    };

    void forget(bitnet_token token) {
        auto entry = std::find_if(counts_.begin(), counts_.end(), [token](const TokenCount &c) { return c.token == token; });
        if (--entry->count == 0) {
            *entry = counts_.back();
            counts_.pop_back();
        }
    }

    size_t window_size_;
    float repeat_, frequency_, presence_;
    std::vector<bitnet_token> window_;  // a ring once full; oldest_ is the next to leave
    size_t oldest_ = 0;
    std::vector<TokenCount> counts_;    // the distinct tokens in the window, at most window_size_
    std::vector<TokenCount> misses_;
};

}  // namespace

std::unique_ptr<bitnet_sampler> make_penalties(int32_t last_n, float repeat, float frequency, float presence) {
    return std::make_unique<PenaltiesSampler>(last_n, repeat, frequency, presence);
}

}  // namespace bitnet::sampling
