/* The reference every binding is compared with: tokenizes PROMPT (BOS added), decodes it, then
 * picks up to N tokens by argmax over bitnet_get_logits() (the lowest id among equal logits),
 * stopping before an end-of-generation token. Prints the prompt's ids on one line and the
 * generated ids on the next. Uses the logits directly rather than a sampler, so a binding's
 * greedy sampler is checked against an independent path.
 * usage: greedy_tokens MODEL.gguf PROMPT N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bitnet.h>

static void print_ids(const bitnet_token *tokens, int32_t n) {
    for (int32_t i = 0; i < n; ++i) printf(i ? " %d" : "%d", tokens[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: greedy_tokens MODEL.gguf PROMPT N\n"), 2;
    int32_t n_predict = atoi(argv[3]);
    bitnet_model *model = NULL;
    bitnet_context *context = NULL;
    bitnet_batch *batch = NULL;
    bitnet_token prompt[256], generated[256];
    int32_t n_generated = 0;
    bitnet_status status = bitnet_model_load_file(argv[1], NULL, &model);
    if (status == BITNET_OK) status = bitnet_context_new(model, NULL, &context);
    if (status == BITNET_OK) status = bitnet_batch_new(256, &batch);
    int32_t n_prompt = 0;
    if (status == BITNET_OK) {
        n_prompt = bitnet_tokenize(model, argv[2], (int32_t)strlen(argv[2]), prompt, 256, true, false);
        if (n_prompt <= 0 || n_predict < 0 || n_predict > 256) status = BITNET_ERR_INVALID_ARGUMENT;
    }
    const int32_t seq = 0;
    for (int32_t i = 0; status == BITNET_OK && i < n_prompt; ++i) {
        status = bitnet_batch_add(batch, prompt[i], i, &seq, 1, i == n_prompt - 1);
    }
    while (status == BITNET_OK && n_generated < n_predict) {
        if ((status = bitnet_decode(context, batch)) != BITNET_OK) break;
        const float *logits = bitnet_get_logits(context, -1);
        bitnet_token best = 0;
        for (int32_t i = 1; i < bitnet_model_n_vocab(model); ++i) {
            if (logits[i] > logits[best]) best = i;
        }
        if (bitnet_token_is_eog(model, best)) break;
        generated[n_generated] = best;
        bitnet_batch_clear(batch);
        status = bitnet_batch_add(batch, best, n_prompt + n_generated++, &seq, 1, true);
    }
    if (status == BITNET_OK) {
        print_ids(prompt, n_prompt);
        print_ids(generated, n_generated);
    } else {
        fprintf(stderr, "greedy_tokens: %s: %s\n", bitnet_status_string(status), bitnet_last_error());
    }
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return status == BITNET_OK ? 0 : 1;
}
