#include "sampler/chain.h"

#include "util/error.h"

namespace bitnet::sampling {

SamplerChain::SamplerChain(bool measure) { measure_time = measure; }

void SamplerChain::apply(bitnet_token_data_array &candidates) {
    for (const auto &member : members_) member->apply(candidates);
}

void SamplerChain::accept(bitnet_token token) {
    for (const auto &member : members_) member->accept(token);
}

void SamplerChain::reset() {
    for (const auto &member : members_) member->reset();
}

std::optional<uint32_t> SamplerChain::seed() const {
    for (const auto &member : members_) {
        if (auto seed = member->seed()) return seed;
    }
    return std::nullopt;
}

int32_t SamplerChain::vocab_size() const {
    for (const auto &member : members_) {
        if (const int32_t n = member->vocab_size()) return n;
    }
    return 0;
}

bool SamplerChain::contains(const bitnet_sampler *other) const {
    for (const auto &member : members_) {
        if (member.get() == other || member->contains(other)) return true;
    }
    return false;
}

void SamplerChain::add(std::unique_ptr<bitnet_sampler> &member) {
    if (member->owned_by_chain) fail(BITNET_ERR_INVALID_ARGUMENT, "the sampler '%s' already belongs to a chain", member->name());
    if (member.get() == this || member->contains(this)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "adding the sampler would put the chain inside itself");
    }
    const int32_t chain_vocab = vocab_size(), member_vocab = member->vocab_size();
    if (chain_vocab != 0 && member_vocab != 0 && chain_vocab != member_vocab) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "the sampler '%s' was built for a vocabulary of %d tokens, the chain's members for %d",
             member->name(), member_vocab, chain_vocab);
    }
    members_.reserve(members_.size() + 1);
    member->owned_by_chain = true;
    members_.push_back(std::move(member));
}

SamplerChain *as_chain(bitnet_sampler *sampler) { return dynamic_cast<SamplerChain *>(sampler); }
const SamplerChain *as_chain(const bitnet_sampler *sampler) { return dynamic_cast<const SamplerChain *>(sampler); }

}  // namespace bitnet::sampling
