#include "speculative/speculative.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>

#include "runtime/context.h"
#include "speculative/prompt_lookup.h"
#include "speculative/sampling_distribution.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::speculative {
namespace {

constexpr int32_t kMaxDraft = 64;
constexpr int32_t kMaxNgram = 16;

// A public call that failed: its status and bitnet_last_error(), prefixed with what was being done.
void check(bitnet_status status, const char *function, const char *what) {
    if (status != BITNET_OK) fail(status, "%s: %s: %s", function, what, bitnet_last_error());
}

// The draft must speak the target's vocabulary token for token: the ids it proposes are checked
// as the target's ids.
void require_same_vocabulary(const bitnet_model *target, const bitnet_model *draft, const char *function) {
    const int32_t n_target = bitnet_vocab_n_tokens(target), n_draft = bitnet_vocab_n_tokens(draft);
    if (n_target != n_draft || bitnet_model_n_vocab(target) != bitnet_model_n_vocab(draft)) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "%s: the draft model's vocabulary has %d tokens (%d logits), the target's %d (%d logits): a draft model "
             "must have the target's vocabulary",
             function, n_draft, bitnet_model_n_vocab(draft), n_target, bitnet_model_n_vocab(target));
    }
    for (bitnet_token token = 0; token < n_target; ++token) {
        const char *a = bitnet_token_text(target, token), *b = bitnet_token_text(draft, token);
        if (!a || !b || std::strcmp(a, b) != 0) {
            fail(BITNET_ERR_INVALID_ARGUMENT,
                 "%s: token %d is '%s' in the draft model's vocabulary and '%s' in the target's: a draft model must "
                 "have the target's vocabulary",
                 function, token, b ? b : "(none)", a ? a : "(none)");
        }
    }
}

void add_entry(bitnet_batch &batch, bitnet_token token, int32_t pos, int32_t seq, bool want_logits,
               const char *function) {
    check(bitnet_batch_add(&batch, token, pos, &seq, 1, want_logits), function, "filling the batch");
}

// Brings the draft context's sequence to hold tokens[0, n) with logits for the last one, then
// drafts up to max_tokens tokens one decode at a time, keeping the draft's distribution at each.
// A failing draft decode (e.g. a smaller draft context that is full) ends the draft early: the
// target verifies what there is.
void draft_with_model(bitnet_speculative &helper, SamplingDistribution &distribution, int32_t seq,
                      const bitnet_token *tokens, int32_t n, int32_t max_tokens, const char *function) {
    bitnet_context *draft = helper.draft;
    std::vector<bitnet_token> &cached = helper.draft_cached[static_cast<size_t>(seq)];
    size_t common = 0;
    while (common < cached.size() && common < static_cast<size_t>(n) && cached[common] == tokens[common]) ++common;
    // Decode at least the last token: its logits start the draft.
    common = std::min(common, static_cast<size_t>(n - 1));
    // Someone else changed the draft's sequence: start it over.
    if (bitnet_seq_pos_max(draft, seq) + 1 != static_cast<int32_t>(cached.size())) common = 0;
    check(bitnet_seq_rm(draft, seq, static_cast<int32_t>(common), -1), function, "removing the draft's stale tokens");
    cached.resize(common);

    const size_t n_batch = bitnet_context_n_batch(draft);
    for (size_t first = common; first < static_cast<size_t>(n); first += n_batch) {
        const size_t last = std::min(static_cast<size_t>(n), first + n_batch);
        bitnet_batch_clear(&helper.batch);
        for (size_t i = first; i < last; ++i) {
            add_entry(helper.batch, tokens[i], static_cast<int32_t>(i), seq, i + 1 == static_cast<size_t>(n), function);
        }
        if (bitnet_decode(draft, &helper.batch) != BITNET_OK) {
            LOG_DEBUG("%s: the draft context cannot decode the sequence (%s); no draft this time", function,
                      bitnet_last_error());
            return;
        }
        cached.insert(cached.end(), tokens + first, tokens + last);
    }
    const int32_t n_vocab = bitnet_model_n_vocab(bitnet_context_model(helper.target));
    const bitnet_model *model = bitnet_context_model(draft);
    for (int32_t i = 0; i < max_tokens; ++i) {
        std::vector<float> &row = helper.draft_rows[static_cast<size_t>(i)];
        distribution.compute(bitnet_get_logits(draft, -1), n_vocab, row);
        const bitnet_token token = helper.rule.draw(row.data(), row.size());
        helper.drafted.push_back(token);
        if (i + 1 == max_tokens || (helper.stop_at_eog && bitnet_token_is_eog(model, token))) return;
        bitnet_batch_clear(&helper.batch);
        add_entry(helper.batch, token, n + i, seq, true, function);
        if (bitnet_decode(draft, &helper.batch) != BITNET_OK) return;
        cached.push_back(token);
    }
}

}  // namespace

bitnet_speculative *create(bitnet_context &target, const bitnet_speculative_params &params, const char *function) {
    if (params.draft_max < 1 || params.draft_max > kMaxDraft) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: draft_max %d is outside [1, %d]", function, params.draft_max, kMaxDraft);
    }
    if (!params.draft_context && (params.lookup_ngram < 1 || params.lookup_ngram > kMaxNgram)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: lookup_ngram %d is outside [1, %d]", function, params.lookup_ngram,
             kMaxNgram);
    }
    const int32_t verified = params.draft_max + 1;
    if (target.config.n_outputs_max < verified || target.config.n_batch < verified) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "%s: the target context verifies draft_max + 1 = %d tokens in one decode, but was made with n_batch %d "
             "and n_outputs_max %d: create it with both at least %d",
             function, verified, target.config.n_batch, target.config.n_outputs_max, verified);
    }
    if (params.draft_context == &target) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the draft context is the target context itself", function);
    }
    if (params.draft_context) require_same_vocabulary(target.model, params.draft_context->model, function);

    const uint32_t seed = params.seed == BITNET_DEFAULT_SEED ? std::random_device{}() : params.seed;
    auto helper = std::make_unique<bitnet_speculative>(seed);
    helper->target = &target;
    helper->draft = params.draft_context;
    helper->draft_max = params.draft_max;
    helper->lookup_ngram = params.lookup_ngram;
    helper->stop_at_eog = params.stop_at_eog;
    helper->batch.capacity = std::max(verified, helper->draft ? helper->draft->config.n_batch : 0);
    if (helper->draft) {
        helper->draft_cached.resize(static_cast<size_t>(helper->draft->config.n_seq_max));
        helper->draft_rows.resize(static_cast<size_t>(params.draft_max));
    }
    helper->stats.struct_size = sizeof helper->stats;
    return helper.release();
}

int32_t generate(bitnet_speculative &helper, bitnet_sampler &sampler, int32_t seq, const bitnet_token *tokens,
                 int32_t n_tokens, bitnet_token *out, int32_t capacity, const char *function) {
    bitnet_context *target = helper.target;
    const int32_t n_vocab = target->model->hparams.n_vocab;
    if (n_tokens < 1) fail(BITNET_ERR_INVALID_ARGUMENT, "%s: n_tokens %d: the sequence needs a token", function, n_tokens);
    if (capacity < 1) fail(BITNET_ERR_INVALID_ARGUMENT, "%s: capacity %d: room for a token is needed", function, capacity);
    if (seq < 0 || seq >= target->config.n_seq_max || (helper.draft && seq >= helper.draft->config.n_seq_max)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: seq %d is outside the contexts' sequences (n_seq_max %d%s)", function,
             seq, target->config.n_seq_max, helper.draft ? " and the draft's" : "");
    }
    for (int32_t i = 0; i < n_tokens; ++i) {
        if (tokens[i] < 0 || tokens[i] >= n_vocab) {
            fail(BITNET_ERR_INVALID_INPUT, "%s: tokens[%d] = %d is outside the vocabulary (0..%d)", function, i,
                 tokens[i], n_vocab - 1);
        }
    }
    const int32_t held = bitnet_seq_pos_max(target, seq);
    if (held != n_tokens - 2) {
        fail(BITNET_ERR_INVALID_INPUT,
             "%s: the target's sequence %d holds positions up to %d, but the call expects every token given but the "
             "last (positions 0..%d): decode the prompt without its last token first",
             function, seq, held, n_tokens - 2);
    }
    SamplingDistribution distribution(sampler, function);
    helper.rule.use_stream(distribution.random_stream());

    // Drafted tokens go at positions n_tokens .. n_tokens + K - 1, inside the context and the output.
    const int32_t room = static_cast<int32_t>(target->config.n_ctx) - n_tokens;
    const int32_t max_draft = std::max(0, std::min({helper.draft_max, capacity - 1, room}));
    helper.drafted.clear();
    if (max_draft > 0) {
        if (helper.draft) {
            draft_with_model(helper, distribution, seq, tokens, n_tokens, max_draft, function);
        } else {
            lookup_draft(tokens, n_tokens, helper.lookup_ngram, max_draft, helper.drafted);
        }
    }

    // Verify: the last token and the drafts in one decode, logits for each.
    bitnet_status status = BITNET_OK;
    for (int attempt = 0; attempt < 2; ++attempt) {
        bitnet_batch_clear(&helper.batch);
        add_entry(helper.batch, tokens[n_tokens - 1], n_tokens - 1, seq, true, function);
        for (size_t i = 0; i < helper.drafted.size(); ++i) {
            add_entry(helper.batch, helper.drafted[i], n_tokens + static_cast<int32_t>(i), seq, true, function);
        }
        status = bitnet_decode(target, &helper.batch);
        // No cells for the drafts (other sequences fill the cache): verify none, as plain decoding would.
        if (status != BITNET_ERR_CONTEXT_FULL || helper.drafted.empty()) break;
        helper.drafted.clear();
    }
    check(status, function, "the target's decode");

    const int32_t n_drafted = static_cast<int32_t>(helper.drafted.size());
    int32_t n_out = 0, n_accepted = 0;
    try {
        for (int32_t i = 0; i <= n_drafted; ++i) {
            const float *logits = bitnet_get_logits(target, i);
            if (!logits) check(bitnet_last_status(), function, "reading the target's logits");
            distribution.compute(logits, n_vocab, helper.target_row);
            bitnet_token token;
            bool kept = false;
            if (i < n_drafted) {
                const bitnet_token drafted = helper.drafted[static_cast<size_t>(i)];
                const float *q = helper.draft ? helper.draft_rows[static_cast<size_t>(i)].data() : nullptr;
                kept = helper.rule.keep(helper.target_row, drafted, q);
                token = kept ? drafted : helper.rule.replacement(helper.target_row, drafted, q);
            } else {
                token = helper.rule.draw(helper.target_row.data(), helper.target_row.size());
            }
            out[n_out++] = token;
            sampler.accept(token);
            n_accepted += kept ? 1 : 0;
            if (!kept || (helper.stop_at_eog && bitnet_token_is_eog(target->model, token))) break;
        }
    } catch (...) {
        // Leave the target as the call found it: every token given but the last.
        bitnet_seq_rm(target, seq, n_tokens - 1, -1);
        throw;
    }
    // Keep the last given token and the outputs but the last (the drafts that were accepted, at
    // positions n_tokens .. n_tokens + n_out - 2); the last output waits for the next call.
    check(bitnet_seq_rm(target, seq, n_tokens - 1 + n_out, -1), function, "removing the rejected drafts");

    ++helper.stats.n_calls;
    helper.stats.n_generated += n_out;
    helper.stats.n_drafted += n_drafted;
    helper.stats.n_accepted += n_accepted;
    return n_out;
}

}  // namespace bitnet::speculative
