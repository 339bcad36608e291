// Temperature: rescales logits; at or below zero it keeps only the best candidate.
#include <utility>

#include "sampler/candidates.h"
#include "sampler/samplers.h"

namespace bitnet::sampling {
namespace {

class TemperatureSampler final : public bitnet_sampler {
public:
    explicit TemperatureSampler(float temperature) : temperature_(temperature) {}

    const char *name() const override { return "temperature"; }

    void apply(bitnet_token_data_array &candidates) override {
        if (candidates.size == 0) return;
        if (temperature_ <= 0.0f) {
            // Dropping the others (rather than setting them to -infinity) spares later members work.
            std::swap(candidates.data[0], candidates.data[best_index(candidates)]);
            candidates.size = 1;
            candidates.sorted = true;
            candidates.selected = -1;
            return;
        }
        if (temperature_ == 1.0f) return;
        // Dividing by a positive number keeps the order, so `sorted` stays true.
        for (size_t i = 0; i < candidates.size; ++i) candidates.data[i].logit /= temperature_;
    }

private:
    float temperature_;
};

}  // namespace

std::unique_ptr<bitnet_sampler> make_temperature(float temperature) {
    return std::make_unique<TemperatureSampler>(temperature);
}

}  // namespace bitnet::sampling
