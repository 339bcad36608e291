/* batched: continue two prompts at once. Both prompts, and then each step's two new tokens, go
 * into one batch, so the model runs once per step for both sequences.
 * usage: batched MODEL.gguf [PROMPT_A] [PROMPT_B] [N_PREDICT] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bitnet.h>

#define N_SEQ 2
#define MAX_TEXT 4096

int main(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "usage: batched MODEL.gguf [PROMPT_A] [PROMPT_B] [N_PREDICT]\n"), 2;
    const char *prompts[N_SEQ] = {argc > 2 ? argv[2] : "The capital of France", argc > 3 ? argv[3] : "Once upon a time"};
    int n_predict = argc > 4 ? atoi(argv[4]) : 16;

    bitnet_model *model = NULL;
    bitnet_context *context = NULL;
    bitnet_batch *batch = NULL;
    bitnet_sampler *samplers[N_SEQ] = {NULL, NULL};
    bitnet_status status = bitnet_model_load_file(argv[1], NULL, &model);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_seq_max = N_SEQ; /* sequence ids 0 and 1 share the KV cache */
    if (status == BITNET_OK) status = bitnet_context_new(model, &params, &context);
    if (status == BITNET_OK) status = bitnet_batch_new((int32_t)bitnet_context_n_batch(context), &batch);
    /* One sampler per sequence: samplers keep history (penalties, random streams) per generation. */
    for (int32_t s = 0; s < N_SEQ && status == BITNET_OK; ++s) status = bitnet_sampler_init_greedy(&samplers[s]);

    int32_t pos[N_SEQ] = {0, 0}, logits_entry[N_SEQ] = {-1, -1};
    for (int32_t s = 0; s < N_SEQ && status == BITNET_OK; ++s) {
        bitnet_token tokens[256];
        int32_t n = bitnet_tokenize(model, prompts[s], (int32_t)strlen(prompts[s]), tokens, 256, true, false);
        if (n <= 0) status = BITNET_ERR_INVALID_INPUT; /* an error, or more than 256 tokens */
        for (int32_t i = 0; i < n && status == BITNET_OK; ++i) {
            status = bitnet_batch_add(batch, tokens[i], pos[s]++, &s, 1, i == n - 1);
        }
        logits_entry[s] = bitnet_batch_size(batch) - 1;
    }

    char text[N_SEQ][MAX_TEXT] = {{0}};
    size_t text_len[N_SEQ] = {0, 0};
    bool done[N_SEQ] = {false, false};
    for (int step = 0; step < n_predict && status == BITNET_OK && !(done[0] && done[1]); ++step) {
        if ((status = bitnet_decode(context, batch)) != BITNET_OK) break;
        bitnet_batch_clear(batch);
        for (int32_t s = 0; s < N_SEQ && status == BITNET_OK; ++s) {
            if (done[s]) continue;
            /* Each sequence samples from the logits of its own last batch entry. */
            bitnet_token next = bitnet_sampler_sample(samplers[s], context, logits_entry[s]);
            if (next == BITNET_TOKEN_NULL) status = BITNET_ERR_INVALID_INPUT;
            done[s] = next == BITNET_TOKEN_NULL || bitnet_token_is_eog(model, next);
            if (done[s]) continue;
            int32_t n = bitnet_token_to_piece(model, next, text[s] + text_len[s],
                                              (int32_t)(MAX_TEXT - 1 - text_len[s]), false);
            if (n > 0) text_len[s] += (size_t)n;
            logits_entry[s] = bitnet_batch_size(batch);
            status = bitnet_batch_add(batch, next, pos[s]++, &s, 1, true);
        }
    }
    if (status != BITNET_OK) fprintf(stderr, "batched: %s: %s\n", bitnet_status_string(status), bitnet_last_error());
    for (int s = 0; s < N_SEQ && status == BITNET_OK; ++s) printf("[%d] %s%s\n", s, prompts[s], text[s]);

    for (int s = 0; s < N_SEQ; ++s) bitnet_sampler_free(samplers[s]);
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return status == BITNET_OK ? 0 : 1;
}
