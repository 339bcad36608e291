// The members that select a token: greedy and dist.
#include <random>

#include "sampler/candidates.h"
#include "sampler/samplers.h"
#include "util/error.h"

namespace bitnet::sampling {
namespace {

class GreedySampler final : public bitnet_sampler {
public:
    const char *name() const override { return "greedy"; }
    Selection selection() const override { return Selection::highest_logit; }
    void apply(bitnet_token_data_array &candidates) override {
        if (candidates.size == 0) fail(BITNET_ERR_INVALID_INPUT, "sampler 'greedy': there are no candidates");
        candidates.selected = static_cast<int64_t>(best_index(candidates));
    }
};

// A uniform double in [0, 1) with 53 random bits from two 32-bit draws (genrand_res53), so the
// stream depends only on the generator, which the C++ standard pins, not on the library's
// distribution classes, which it does not.
double uniform_unit(std::mt19937 &rng) {
    uint32_t high = rng() >> 5, low = rng() >> 6;
    return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0);
}

class DistSampler final : public bitnet_sampler {
public:
    explicit DistSampler(uint32_t seed) : requested_seed_(seed) { reset(); }

    const char *name() const override { return "dist"; }
    Selection selection() const override { return Selection::softmax; }

    void apply(bitnet_token_data_array &candidates) override {
        if (candidates.size == 0) fail(BITNET_ERR_INVALID_INPUT, "sampler 'dist': there are no candidates");
        const double total = softmax(candidates, name());
        const double target = uniform_unit(rng_) * total;
        double cumulative = 0.0;
        size_t chosen = candidates.size;
        size_t last_possible = 0;
        for (size_t i = 0; i < candidates.size; ++i) {
            const float p = candidates.data[i].p;
            if (p <= 0.0f) continue;
            last_possible = i;
            cumulative += p;
            if (target < cumulative) {
                chosen = i;
                break;
            }
        }
        // Rounding can leave the target just past the last cumulative sum.
        if (chosen == candidates.size) chosen = last_possible;
        candidates.selected = static_cast<int64_t>(chosen);
    }

    void reset() override {
        seed_ = requested_seed_ == BITNET_DEFAULT_SEED ? std::random_device{}() : requested_seed_;
        rng_.seed(seed_);
    }

    std::optional<uint32_t> seed() const override { return seed_; }
    std::mt19937 *random_stream() override { return &rng_; }

private:
    uint32_t requested_seed_;
    uint32_t seed_ = 0;
    std::mt19937 rng_;
};

}  // namespace

std::unique_ptr<bitnet_sampler> make_greedy() { return std::make_unique<GreedySampler>(); }
std::unique_ptr<bitnet_sampler> make_dist(uint32_t seed) { return std::make_unique<DistSampler>(seed); }

}  // namespace bitnet::sampling
