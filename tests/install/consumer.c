/* A C99 program built against the installed library: loads a model, decodes two tokens greedily. */
#include <stdio.h>

#include <bitnet.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: consumer MODEL.gguf\n");
        return 2;
    }
    printf("bitnet %s\n", bitnet_version());
    bitnet_model *model = NULL;
    bitnet_status status = bitnet_model_load_file(argv[1], NULL, &model);
    if (status != BITNET_OK) {
        fprintf(stderr, "load failed: %s: %s\n", bitnet_status_string(status), bitnet_last_error());
        return 1;
    }
    bitnet_context *context = NULL;
    bitnet_batch *batch = NULL;
    status = bitnet_context_new(model, NULL, &context);
    if (status == BITNET_OK) status = bitnet_batch_new(4, &batch);
    const int32_t seq = 0;
    bitnet_token token = 1;
    for (int32_t pos = 0; status == BITNET_OK && pos < 2; ++pos) {
        bitnet_batch_clear(batch);
        bitnet_batch_add(batch, token, pos, &seq, 1, true);
        status = bitnet_decode(context, batch);
        if (status != BITNET_OK) break;
        const float *logits = bitnet_get_logits(context, 0);
        int32_t best = 0;
        for (int32_t i = 1; i < bitnet_model_n_vocab(model); ++i) {
            if (logits[i] > logits[best]) best = i;
        }
        token = best;
        printf("token %d\n", token);
    }
    if (status != BITNET_OK) fprintf(stderr, "decode failed: %s: %s\n", bitnet_status_string(status), bitnet_last_error());
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    if (status == BITNET_OK) printf("ok\n");
    return status == BITNET_OK ? 0 : 1;
}
