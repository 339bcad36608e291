// The object behind the opaque bitnet_speculative handle: speculative decoding of one target
// context's sequences, drafted by prompt lookup or by a draft model's context, verified in one
// bitnet_decode() per call (see the "Speculative decoding" section of include/bitnet.h). It is a
// client of the public API like any embedding program: it decodes, reads logits and removes
// rejected positions with bitnet_seq_rm().
#pragma once

#include <cstdint>
#include <vector>

#include "bitnet.h"
#include "runtime/batch.h"
#include "speculative/acceptance_rule.h"

struct bitnet_speculative {
    bitnet_context *target = nullptr;
    bitnet_context *draft = nullptr;  // nullptr: prompt lookup
    int32_t draft_max = 0;
    int32_t lookup_ngram = 0;
    bool stop_at_eog = true;
    bitnet::speculative::AcceptanceRule rule;
    bitnet_batch batch;

    // Per sequence of the draft context: the tokens its KV cache holds, in position order.
    std::vector<std::vector<bitnet_token>> draft_cached;

    // Scratch reused by every call: the drafted tokens, the draft's distribution at each of them
    // (draft model only) and the target's distribution at the position being verified.
    std::vector<bitnet_token> drafted;
    std::vector<std::vector<float>> draft_rows;
    std::vector<float> target_row;

    bitnet_speculative_stats stats{};

    explicit bitnet_speculative(uint32_t seed) : rule(seed) {}
};

namespace bitnet::speculative {

// Checks the contexts and parameters (see bitnet_speculative_new) and builds the helper.
bitnet_speculative *create(bitnet_context &target, const bitnet_speculative_params &params, const char *function);

// One step (see bitnet_speculative_generate): returns the number of tokens written to `out`.
int32_t generate(bitnet_speculative &helper, bitnet_sampler &sampler, int32_t seq, const bitnet_token *tokens,
                 int32_t n_tokens, bitnet_token *out, int32_t capacity, const char *function);

}  // namespace bitnet::speculative
