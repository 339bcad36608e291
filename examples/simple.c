/* simple: load a model, tokenize a prompt, sample with a chain and print the text as it streams.
 * usage: simple MODEL.gguf [PROMPT] [N_PREDICT] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bitnet.h>

/* Hands a just-made member to the chain, which then frees it with itself. */
static bitnet_status add(bitnet_sampler *chain, bitnet_status made, bitnet_sampler *const *member) {
    bitnet_status status = made == BITNET_OK ? bitnet_sampler_chain_add(chain, *member) : made;
    if (status != BITNET_OK) bitnet_sampler_free(*member);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "usage: simple MODEL.gguf [PROMPT] [N_PREDICT]\n"), 2;
    const char *prompt = argc > 2 ? argv[2] : "Once upon a time";
    int n_predict = argc > 3 ? atoi(argv[3]) : 32;

    bitnet_model *model = NULL;
    bitnet_context *context = NULL;
    bitnet_batch *batch = NULL;
    bitnet_sampler *chain = NULL, *member = NULL;
    bitnet_detokenizer *detokenizer = NULL;
    bitnet_token tokens[512];
    bitnet_status status = bitnet_model_load_file(argv[1], NULL, &model);
    if (status == BITNET_OK) status = bitnet_context_new(model, NULL, &context);
    if (status == BITNET_OK) status = bitnet_batch_new(512, &batch);
    if (status == BITNET_OK) status = bitnet_detokenizer_new(model, false, &detokenizer);
    /* Truncate to the likeliest tokens, soften them, then draw with a fixed seed. */
    if (status == BITNET_OK) status = bitnet_sampler_chain_new(NULL, &chain);
    if (status == BITNET_OK) status = add(chain, bitnet_sampler_init_top_k(40, &member), &member);
    if (status == BITNET_OK) status = add(chain, bitnet_sampler_init_temperature(0.8f, &member), &member);
    if (status == BITNET_OK) status = add(chain, bitnet_sampler_init_dist(42, &member), &member);

    int32_t n_prompt = 0;
    if (status == BITNET_OK) {
        n_prompt = bitnet_tokenize(model, prompt, (int32_t)strlen(prompt), tokens, 512, true, false);
        if (n_prompt <= 0) status = BITNET_ERR_INVALID_INPUT; /* an error, or more than 512 tokens */
    }
    /* The whole prompt goes in one batch; only its last entry needs logits. */
    const int32_t seq = 0;
    for (int32_t i = 0; status == BITNET_OK && i < n_prompt; ++i) {
        status = bitnet_batch_add(batch, tokens[i], i, &seq, 1, i == n_prompt - 1);
    }
    char text[256];
    for (int32_t pos = n_prompt; status == BITNET_OK && pos < n_prompt + n_predict; ++pos) {
        if ((status = bitnet_decode(context, batch)) != BITNET_OK) break;
        bitnet_token next = bitnet_sampler_sample(chain, context, -1);
        if (next == BITNET_TOKEN_NULL) status = BITNET_ERR_INVALID_INPUT;
        if (next == BITNET_TOKEN_NULL || bitnet_token_is_eog(model, next)) break;
        int32_t n = bitnet_detokenizer_push(detokenizer, next, text, sizeof text);
        if (n > 0) fwrite(text, 1, (size_t)n, stdout), fflush(stdout);
        bitnet_batch_clear(batch);
        status = bitnet_batch_add(batch, next, pos, &seq, 1, true);
    }
    if (status == BITNET_OK) {
        int32_t n = bitnet_detokenizer_flush(detokenizer, text, sizeof text);
        if (n > 0) fwrite(text, 1, (size_t)n, stdout);
        printf("\n");
    } else {
        fprintf(stderr, "simple: %s: %s\n", bitnet_status_string(status), bitnet_last_error());
    }

    bitnet_detokenizer_free(detokenizer);
    bitnet_sampler_free(chain);
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return status == BITNET_OK ? 0 : 1;
}
