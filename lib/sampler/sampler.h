// The object behind the opaque bitnet_sampler handle: one polymorphic type for chains, the
// built-in members and custom callback samplers, so that a chain can hold any of them.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "bitnet.h"

struct bitnet_sampler {
    virtual ~bitnet_sampler() = default;

    virtual const char *name() const = 0;
    // Reorder, rescale or drop candidates, and/or select one. Throws bitnet::Error.
    virtual void apply(bitnet_token_data_array &candidates) = 0;
    // A token was chosen: samplers with a history (penalties, custom ones) record it.
    virtual void accept(bitnet_token token) { (void)token; }
    // Forget the history and restart any random stream from its seed.
    virtual void reset() {}
    // The seed of a random sampler (for a chain, its first random member's).
    virtual std::optional<uint32_t> seed() const { return std::nullopt; }
    // True when `other` is a member of this sampler at any depth (only chains have members).
    virtual bool contains(const bitnet_sampler *other) const {
        (void)other;
        return false;
    }
    // The vocabulary size the sampler was built for (a logit bias names token ids), or 0 when it
    // works on any: sampling logits of another size is refused rather than silently misapplied.
    virtual int32_t vocab_size() const { return 0; }
    // How a selecting member picks (the built-in greedy and dist say so; every other sampler,
    // custom ones included, is opaque): speculative decoding needs the distribution a chain
    // samples from, which is the candidates before such a final member (lib/speculative/).
    enum class Selection { opaque, highest_logit, softmax };
    virtual Selection selection() const { return Selection::opaque; }
    // The random stream a selecting member draws from (dist), or nullptr: speculative sampling
    // takes its accept/reject draws from the same stream, so that a seeded sampler gives the same
    // tokens whatever else the speculative helper generates.
    virtual std::mt19937 *random_stream() { return nullptr; }

    // Set when a chain owns this sampler; it then may not be freed or added again.
    bool owned_by_chain = false;

    // Per-sample timing, kept only by chains made without no_perf.
    bool measure_time = false;
    int32_t n_sample = 0;
    double t_sample_ms = 0.0;

    // The candidates of bitnet_sampler_sample*(): one entry per vocabulary token, allocated by the
    // first sample and reused by every later one.
    std::vector<bitnet_token_data> candidate_buffer;
};

namespace bitnet::sampling {

// Fill the candidates from `logits`, run `sampler` over them, accept the selected token and
// return it. Throws bitnet::Error naming `function` when the logits or the selection are invalid.
bitnet_token sample_logits(bitnet_sampler &sampler, const float *logits, int32_t n_vocab, const char *function);

}  // namespace bitnet::sampling
