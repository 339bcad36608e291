#include "perplexity_chunks.h"

#include <algorithm>
#include <memory>

namespace bitnet_cli {

std::string plan_chunks(int64_t n_tokens, int32_t n_ctx, int32_t max_chunks, bitnet_token bos, ChunkPlan *plan) {
    if (n_tokens <= 0) return "the text is empty (no tokens to score)";
    if (n_ctx < 4) return "the context size must be at least 4 tokens";
    if (n_tokens < 2 * static_cast<int64_t>(n_ctx)) {
        return "the text has " + std::to_string(n_tokens) + " tokens; at least " + std::to_string(2 * int64_t{n_ctx}) +
               " (2 x n_ctx " + std::to_string(n_ctx) + ") are needed";
    }
    int64_t n_chunks = n_tokens / n_ctx;
    if (max_chunks > 0) n_chunks = std::min<int64_t>(n_chunks, max_chunks);
    plan->n_ctx = n_ctx;
    plan->n_chunks = static_cast<int32_t>(std::min<int64_t>(n_chunks, INT32_MAX));
    plan->first = n_ctx / 2;
    plan->bos = bos;
    return "";
}

bitnet_token chunk_input(const std::vector<bitnet_token> &tokens, const ChunkPlan &plan, int32_t chunk, int32_t pos) {
    if (pos == 0 && plan.bos != BITNET_TOKEN_NULL) return plan.bos;
    return tokens[static_cast<size_t>(chunk) * static_cast<size_t>(plan.n_ctx) + static_cast<size_t>(pos)];
}

static bool is_scored(const ChunkPlan &plan, int32_t pos) { return pos >= plan.first && pos < plan.n_ctx - 1; }

int32_t max_scored_per_batch(const ChunkPlan &plan, int32_t parallel, int32_t n_batch) {
    // Every group but the last has the same batches; the last, shorter one is a prefix of them.
    const int64_t group_tokens = static_cast<int64_t>(std::min(parallel, plan.n_chunks)) * plan.n_ctx;
    int32_t most = 0;
    for (int64_t start = 0; start < group_tokens; start += n_batch) {
        int32_t scored = 0;
        for (int64_t k = start; k < std::min<int64_t>(group_tokens, start + n_batch); ++k) {
            scored += is_scored(plan, static_cast<int32_t>(k % plan.n_ctx)) ? 1 : 0;
        }
        most = std::max(most, scored);
    }
    return std::max(most, 1);
}

namespace {

struct BatchFree {
    void operator()(bitnet_batch *batch) const { bitnet_batch_free(batch); }
};

// One batch entry and where it came from.
struct Entry {
    int32_t chunk;
    int32_t pos;
};

}  // namespace

bitnet_status evaluate_chunks(bitnet_context *context, const std::vector<bitnet_token> &tokens, const ChunkPlan &plan,
                              int32_t parallel, int32_t n_batch, const ChunkCallbacks &callbacks) {
    bitnet_batch *raw_batch = nullptr;
    bitnet_status status = bitnet_batch_new(n_batch, &raw_batch);
    if (status != BITNET_OK) return status;
    std::unique_ptr<bitnet_batch, BatchFree> batch(raw_batch);
    std::vector<Entry> entries;
    entries.reserve(static_cast<size_t>(n_batch));
    int64_t tokens_done = 0;

    for (int32_t group = 0; group < plan.n_chunks; group += parallel) {
        const int32_t group_end = std::min(plan.n_chunks, group + parallel);
        // Each chunk starts from an empty cache, as llama-perplexity clears it per chunk.
        status = bitnet_memory_clear(context);
        if (status != BITNET_OK) return status;
        // The group's tokens in chunk-major order (sequence s = chunk - group), cut into decode
        // calls of n_batch entries: outputs then come back in chunk order, position order.
        const int64_t group_tokens = static_cast<int64_t>(group_end - group) * plan.n_ctx;
        for (int64_t start = 0; start < group_tokens; start += n_batch) {
            const int64_t end = std::min<int64_t>(group_tokens, start + n_batch);
            bitnet_batch_clear(batch.get());
            entries.clear();
            for (int64_t k = start; k < end; ++k) {
                const int32_t chunk = group + static_cast<int32_t>(k / plan.n_ctx);
                const int32_t pos = static_cast<int32_t>(k % plan.n_ctx);
                const int32_t seq = chunk - group;
                const bool scored = is_scored(plan, pos);
                status = bitnet_batch_add(batch.get(), chunk_input(tokens, plan, chunk, pos), pos, &seq, 1, scored);
                if (status != BITNET_OK) return status;
                entries.push_back({chunk, pos});
            }
            status = bitnet_decode(context, batch.get());
            if (status != BITNET_OK) return status;
            for (size_t e = 0; e < entries.size(); ++e) {
                const Entry &entry = entries[e];
                if (!is_scored(plan, entry.pos)) continue;
                const float *logits = bitnet_get_logits(context, static_cast<int32_t>(e));
                if (!logits) return bitnet_last_status() != BITNET_OK ? bitnet_last_status() : BITNET_ERR_INTERNAL;
                const size_t next_index =
                    static_cast<size_t>(entry.chunk) * static_cast<size_t>(plan.n_ctx) + static_cast<size_t>(entry.pos) + 1;
                if (!callbacks.on_token(entry.chunk, entry.pos, logits, tokens[next_index])) return BITNET_ERR_CANCELLED;
                if (entry.pos == plan.n_ctx - 2 && callbacks.on_chunk_done) callbacks.on_chunk_done(entry.chunk);
            }
            tokens_done += end - start;
            if (callbacks.on_progress) callbacks.on_progress(tokens_done);
        }
    }
    return BITNET_OK;
}

}  // namespace bitnet_cli
