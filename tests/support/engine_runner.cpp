#include "support/engine_runner.h"

#include <gtest/gtest.h>

namespace bitnet_test {

ModelPtr load_model(const std::string &path) {
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_file(path.c_str(), nullptr, &model);
    EXPECT_EQ(status, BITNET_OK) << path << ": " << bitnet_last_error();
    return ModelPtr(model);
}

ContextPtr make_context(const bitnet_model *model, const RunOptions &options, uint32_t n_tokens, uint32_t n_seq_max) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = n_tokens * n_seq_max;
    params.n_batch = n_tokens * n_seq_max;
    params.n_outputs_max = n_tokens * n_seq_max;
    params.n_seq_max = n_seq_max;
    params.kv_type = options.kv_type;
    params.quantize_activations = options.quantize_activations;
    params.n_threads = options.n_threads;
    params.backend = options.backend;
    bitnet_context *context = nullptr;
    bitnet_status status = bitnet_context_new(model, &params, &context);
    EXPECT_EQ(status, BITNET_OK) << bitnet_last_error();
    return ContextPtr(context);
}

bitnet_status decode_tokens(bitnet_context *context, const std::vector<int> &tokens, int32_t first_pos, int32_t seq,
                            bool all_logits) {
    bitnet_batch *raw = nullptr;
    if (bitnet_batch_new(static_cast<int32_t>(tokens.size()), &raw) != BITNET_OK) return BITNET_ERR_INTERNAL;
    BatchPtr batch(raw);
    for (size_t i = 0; i < tokens.size(); ++i) {
        bool want = all_logits || i + 1 == tokens.size();
        bitnet_batch_add(batch.get(), tokens[i], first_pos + static_cast<int32_t>(i), &seq, 1, want);
    }
    return bitnet_decode(context, batch.get());
}

std::vector<float> logits_copy(bitnet_context *context, int32_t entry, int32_t n_vocab) {
    const float *logits = bitnet_get_logits(context, entry);
    EXPECT_NE(logits, nullptr) << bitnet_last_error();
    if (!logits) return std::vector<float>(static_cast<size_t>(n_vocab), 0.0f);
    return std::vector<float>(logits, logits + n_vocab);
}

std::vector<std::vector<float>> engine_logits(const bitnet_model *model, const std::vector<int> &tokens,
                                              const RunOptions &options) {
    const int32_t n_vocab = bitnet_model_n_vocab(model);
    ContextPtr context = make_context(model, options, static_cast<uint32_t>(tokens.size()));
    std::vector<std::vector<float>> out;
    if (!context) return out;
    if (options.one_batch) {
        EXPECT_EQ(decode_tokens(context.get(), tokens, 0, 0), BITNET_OK) << bitnet_last_error();
        for (size_t i = 0; i < tokens.size(); ++i) out.push_back(logits_copy(context.get(), static_cast<int32_t>(i), n_vocab));
    } else {
        for (size_t i = 0; i < tokens.size(); ++i) {
            EXPECT_EQ(decode_tokens(context.get(), {tokens[i]}, static_cast<int32_t>(i), 0), BITNET_OK)
                << bitnet_last_error();
            out.push_back(logits_copy(context.get(), 0, n_vocab));
        }
    }
    return out;
}

}  // namespace bitnet_test
