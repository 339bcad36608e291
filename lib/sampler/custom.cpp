// A sampler made of the caller's C callbacks.
#include "sampler/candidates.h"
#include "sampler/samplers.h"
#include "util/error.h"

namespace bitnet::sampling {
namespace {

class CustomSampler final : public bitnet_sampler {
public:
    explicit CustomSampler(const bitnet_sampler_callbacks &callbacks) : callbacks_(callbacks) {}

    ~CustomSampler() override {
        if (callbacks_.free) callbacks_.free(callbacks_.user_data);
    }

    const char *name() const override {
        const char *name = callbacks_.name ? callbacks_.name(callbacks_.user_data) : nullptr;
        return name ? name : "custom";
    }

    void apply(bitnet_token_data_array &candidates) override {
        const bitnet_token_data *data = candidates.data;
        const size_t size = candidates.size;
        callbacks_.apply(callbacks_.user_data, &candidates);
        // The caller's code must leave the array usable by the members after it.
        if (candidates.data != data) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "custom sampler '%s' replaced the candidates' data pointer", name());
        }
        if (candidates.size > size) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "custom sampler '%s' grew the candidates from %zu to %zu", name(), size,
                 candidates.size);
        }
        if (candidates.selected < -1 || candidates.selected >= static_cast<int64_t>(candidates.size)) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "custom sampler '%s' selected index %lld of %zu candidates", name(),
                 static_cast<long long>(candidates.selected), candidates.size);
        }
        require_no_nan(candidates, name());
    }

    void accept(bitnet_token token) override {
        if (callbacks_.accept) callbacks_.accept(callbacks_.user_data, token);
    }

    void reset() override {
        if (callbacks_.reset) callbacks_.reset(callbacks_.user_data);
    }

private:
    bitnet_sampler_callbacks callbacks_;
};

}  // namespace

std::unique_ptr<bitnet_sampler> make_custom(const bitnet_sampler_callbacks &callbacks) {
    return std::make_unique<CustomSampler>(callbacks);
}

}  // namespace bitnet::sampling
