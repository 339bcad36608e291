// A chain: members applied in order, owned by the chain.
#pragma once

#include <memory>
#include <vector>

#include "sampler/sampler.h"

namespace bitnet::sampling {

class SamplerChain final : public bitnet_sampler {
public:
    explicit SamplerChain(bool measure);

    const char *name() const override { return "chain"; }
    void apply(bitnet_token_data_array &candidates) override;
    void accept(bitnet_token token) override;
    void reset() override;
    std::optional<uint32_t> seed() const override;
    bool contains(const bitnet_sampler *other) const override;
    int32_t vocab_size() const override;

    // Takes ownership. Throws (leaving ownership with the caller) when `member` already belongs
    // to a chain or would put this chain inside itself.
    void add(std::unique_ptr<bitnet_sampler> &member);

    size_t size() const { return members_.size(); }
    bitnet_sampler *member(size_t i) const { return members_[i].get(); }

private:
    std::vector<std::unique_ptr<bitnet_sampler>> members_;
};

// `sampler` as a chain, or nullptr when it is another kind of sampler.
SamplerChain *as_chain(bitnet_sampler *sampler);
const SamplerChain *as_chain(const bitnet_sampler *sampler);

}  // namespace bitnet::sampling
