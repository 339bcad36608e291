// Fuzz target: a GGUF model image loaded from memory (bitnet_model_load_memory), and on success
// what an embedding program does next: metadata queries, tokenize, chat template, a context, one
// decode and one sample. The input is the GGUF file itself, so a saved crash input runs as is
// with `bitnet run -m crash-...`.
#include <cstring>
#include <string>

#include "fuzz_support.h"

namespace bitnet_fuzz {

void write_seeds(SeedWriter &seeds) {
    for (const char *format : {"i2_s", "tq2_0", "tq1_0", "f16", "f32"}) {
        seeds.add(std::string("tiny-") + format + ".gguf", tiny_model_image(format));
    }
}

}  // namespace bitnet_fuzz

namespace {

void query_metadata(const bitnet_model *model) {
    char buf[256];
    (void)bitnet_model_architecture(model);
    (void)bitnet_model_name(model);
    (void)bitnet_model_n_params(model);
    (void)bitnet_model_rope_freq_base(model);
    const int64_t n_meta = bitnet_model_meta_count(model);
    for (int64_t i = 0; i < n_meta; ++i) {
        const char *key = bitnet_model_meta_key(model, i);
        FUZZ_ASSERT(key != nullptr, "meta key %lld of %lld is NULL", static_cast<long long>(i),
                    static_cast<long long>(n_meta));
        std::memset(buf, 'x', sizeof(buf));
        const int64_t length = bitnet_model_meta_value_by_index(model, i, 8, buf, sizeof(buf));
        FUZZ_ASSERT(length >= 0, "meta value %lld of %lld failed: %s", static_cast<long long>(i),
                    static_cast<long long>(n_meta), bitnet_last_error());
        FUZZ_ASSERT(std::memchr(buf, 0, sizeof(buf)) != nullptr, "meta value %lld is not NUL-terminated",
                    static_cast<long long>(i));
        (void)bitnet_model_meta_value(model, key, buf, sizeof(buf));
    }
    const int64_t n_tensors = bitnet_model_n_tensors(model);
    for (int64_t i = 0; i < n_tensors; ++i) {
        bitnet_tensor_info info;
        std::memset(&info, 0, sizeof(info));
        info.struct_size = sizeof(info);
        FUZZ_ASSERT(bitnet_model_tensor_info(model, i, &info) == BITNET_OK, "tensor %lld of %lld: %s",
                    static_cast<long long>(i), static_cast<long long>(n_tensors), bitnet_last_error());
    }
}

void use_vocabulary(const bitnet_model *model) {
    static const char kText[] = "Hello, world! 123 \xC3\xA9t\xC3\xA9 <|eot_id|>\xFF";
    bitnet_token tokens[64];
    const int32_t n = bitnet_tokenize(model, kText, sizeof(kText) - 1, tokens, 64, true, true);
    const int32_t n_vocab = bitnet_vocab_n_tokens(model);
    for (int32_t i = 0; i < n; ++i) {
        FUZZ_ASSERT(tokens[i] >= 0 && tokens[i] < n_vocab, "tokenize gave id %d outside [0, %d)", tokens[i], n_vocab);
    }
    if (n > 0) {
        char text[512];
        (void)bitnet_detokenize(model, tokens, n, text, sizeof(text), false, true);
    }
    const bitnet_chat_message messages[] = {{"system", "Be brief."}, {"user", "Hi"}};
    char prompt[512];
    (void)bitnet_chat_apply_template(model, nullptr, messages, 2, true, prompt, sizeof(prompt));
}

void decode_and_sample(const bitnet_model *model) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 16;
    params.n_batch = 4;
    params.n_threads = 1;
    params.backend = BITNET_BACKEND_CPU;
    // A hostile file may describe a large model whose tensors still fit its few bytes (e.g. a
    // wide vocabulary over a short embedding is refused, but many heads may not be): stay within
    // what a fuzzing process may allocate.
    if (bitnet_context_memory_required(model, &params) > (size_t(256) << 20)) return;
    bitnet_context *context = nullptr;
    if (bitnet_context_new(model, &params, &context) != BITNET_OK) return;
    bitnet_batch *batch = nullptr;
    if (bitnet_batch_new(1, &batch) == BITNET_OK) {
        const bitnet_token bos = bitnet_vocab_bos(model);
        const int32_t seq = 0;
        bitnet_batch_add(batch, bos >= 0 ? bos : 0, 0, &seq, 1, true);
        if (bitnet_decode(context, batch) == BITNET_OK) {
            bitnet_sampler *greedy = nullptr;
            if (bitnet_sampler_init_greedy(&greedy) == BITNET_OK) {
                // Hostile weights may well give NaN logits: then BITNET_TOKEN_NULL with a message (bitnet.h).
                const bitnet_token token = bitnet_sampler_sample(greedy, context, 0);
                FUZZ_ASSERT(token == BITNET_TOKEN_NULL ? bitnet_last_error()[0] != '\0'
                                                       : token >= 0 && token < bitnet_model_n_vocab(model),
                            "sampled %d of a %d-token vocabulary", token, bitnet_model_n_vocab(model));
                bitnet_sampler_free(greedy);
            }
        }
        bitnet_batch_free(batch);
    }
    bitnet_context_free(context);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static std::vector<uint64_t> storage;
    bitnet_model_params params = bitnet_model_default_params();
    // The options come from the size so that an input stays a plain GGUF file: each input is loaded
    // with one of the lm_head conversions (BITNET_HEAD_*, 0..4) and, for a fifth, vocabulary-only.
    params.head_type = static_cast<bitnet_head_type>(size % 5);
    params.vocab_only = size % 7 == 0;
    bitnet_model *model = nullptr;
    if (bitnet_fuzz::load_from_bytes(data, size, params, storage, &model) != BITNET_OK) {
        FUZZ_ASSERT(model == nullptr, "failed load left a model behind");
        FUZZ_ASSERT(bitnet_last_error()[0] != '\0', "failed load without a message");
        return 0;
    }
    query_metadata(model);
    use_vocabulary(model);
    if (!params.vocab_only) decode_and_sample(model);
    bitnet_model_free(model);
    return 0;
}
