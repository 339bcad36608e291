// How `bitnet perplexity` walks a tokenized text, with llama-perplexity's method
// (llama.cpp examples/perplexity/perplexity.cpp, perplexity()):
//   - the whole text is tokenized once, with BOS when the model's vocabulary adds one;
//   - it is cut into chunks of n_ctx tokens (a partial last chunk is dropped), and at least two
//     chunks' worth of tokens is required ("you need at least 2*n_ctx tokens");
//   - each chunk is evaluated from an empty KV cache at positions 0..n_ctx-1, its first token
//     replaced by BOS when the vocabulary adds one;
//   - only the second half is scored: the logits at positions j = first .. n_ctx-2, with
//     first = n_ctx / 2, predict token j + 1 of the chunk (n_ctx - 1 - first tokens per chunk).
// Chunks may be evaluated `parallel` at a time as separate sequences of one context; the scored
// logits are still handed out in chunk order, then position order, so every sum is taken in the
// same order whatever `parallel` is and the results are identical.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bitnet.h"

namespace bitnet_cli {

struct ChunkPlan {
    int32_t n_ctx = 0;
    int32_t n_chunks = 0;
    int32_t first = 0;            // first scored position of a chunk: n_ctx / 2
    bitnet_token bos = BITNET_TOKEN_NULL;  // put at each chunk's start; BITNET_TOKEN_NULL: keep the text's token

    int32_t scored_per_chunk() const { return n_ctx - 1 - first; }
    int64_t scored_total() const { return static_cast<int64_t>(scored_per_chunk()) * n_chunks; }
};

// Plans the chunks for `n_tokens` tokens. max_chunks <= 0: as many as fit. Returns "" or, for an
// input it cannot score, a message saying what is wrong (no tokens, fewer than 2 * n_ctx, n_ctx < 4).
std::string plan_chunks(int64_t n_tokens, int32_t n_ctx, int32_t max_chunks, bitnet_token bos, ChunkPlan *plan);

// The token the model sees at position `pos` of chunk `chunk` (BOS at position 0 when planned).
bitnet_token chunk_input(const std::vector<bitnet_token> &tokens, const ChunkPlan &plan, int32_t chunk, int32_t pos);

// The most scored (logit-wanting) entries any decode call of evaluate_chunks() carries: the
// context's n_outputs_max, so that it reserves no more output memory than needed.
int32_t max_scored_per_batch(const ChunkPlan &plan, int32_t parallel, int32_t n_batch);

struct ChunkCallbacks {
    // A scored position: `logits` (n_vocab floats, valid only during the call) predict `next`.
    std::function<bool(int32_t chunk, int32_t pos, const float *logits, bitnet_token next)> on_token;
    // After the last scored token of a chunk, in chunk order. May be empty.
    std::function<void(int32_t chunk)> on_chunk_done;
    // After each decode call: tokens evaluated so far (of plan.n_chunks * n_ctx). May be empty.
    std::function<void(int64_t tokens_done)> on_progress;
};

// Evaluates every chunk of the plan on `context`, which must hold `parallel` sequences of n_ctx
// cells (n_ctx * parallel cells, n_seq_max >= parallel), take `n_batch` tokens per decode and
// allow as many outputs. Returns BITNET_OK, a decode's failure, or BITNET_ERR_CANCELLED when
// on_token returned false.
bitnet_status evaluate_chunks(bitnet_context *context, const std::vector<bitnet_token> &tokens, const ChunkPlan &plan,
                              int32_t parallel, int32_t n_batch, const ChunkCallbacks &callbacks);

}  // namespace bitnet_cli
