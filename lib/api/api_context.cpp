// C API: contexts, batches, decoding and outputs.
#include <cstring>

#include "api/guard.h"
#include "api/params_reader.h"
#include "bitnet.h"
#include "runtime/batch.h"
#include "runtime/context.h"

namespace {

// The caller's parameters by the header's struct_size rules; the model is checked first.
bitnet_context_params read_context_params(const bitnet_model *model, const bitnet_context_params *given,
                                          const char *function) {
    bitnet::require_argument(model != nullptr, function, "model is NULL");
    return bitnet::read_params(given, bitnet_context_default_params(), function, "bitnet_context_default_params");
}

// Shared by bitnet_get_logits and bitnet_get_embeddings: the output row of entry i, or throws.
int32_t output_row(const bitnet_context *context, int32_t i, const char *function) {
    bitnet::require_argument(context != nullptr, function, "context is NULL");
    if (i == -1) {
        if (context->last_output_entry < 0) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the last decode produced no logits", function);
        }
        i = context->last_output_entry;
    }
    if (i < 0 || i >= context->last_n_entries) {
        bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: entry %d is outside the last batch (%d entries)", function, i,
                     context->last_n_entries);
    }
    int32_t row = context->output_row_of_entry[i];
    if (row < 0) bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: entry %d did not ask for logits", function, i);
    return row;
}

}  // namespace

extern "C" {

BITNET_API bitnet_context_params bitnet_context_default_params(void) {
    bitnet_context_params params;
    std::memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.n_batch = 512;
    params.n_seq_max = 1;
    params.kv_type = BITNET_KV_F16;
    params.quantize_activations = true;
    params.backend = BITNET_BACKEND_AUTO;
    return params;
}

BITNET_API size_t bitnet_context_memory_required(const bitnet_model *model, const bitnet_context_params *params) {
    size_t bytes = 0;
    bitnet::api_guard(__func__, [&, function = __func__] {
        const bitnet_context_params read = read_context_params(model, params, function);
        bytes = bitnet::context_memory_required(*model, bitnet::resolve_context_params(*model, read));
    });
    return bytes;
}

BITNET_API bitnet_status bitnet_context_new(const bitnet_model *model, const bitnet_context_params *params,
                                            bitnet_context **out_context) {
    if (out_context) *out_context = nullptr;
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(out_context != nullptr, function, "out_context is NULL");
        const bitnet_context_params read = read_context_params(model, params, function);
        model->mapping.check_not_truncated();
        const bitnet::ContextConfig config = bitnet::resolve_context_params(*model, read);
        *out_context = bitnet::create_context(*model, config, read.buffer, read.buffer_size).release();
    });
}

BITNET_API void bitnet_context_free(bitnet_context *context) { delete context; }

BITNET_API uint32_t bitnet_context_n_ctx(const bitnet_context *context) { return bitnet::non_null(context, __func__, "context") ? context->config.n_ctx : 0; }

BITNET_API uint32_t bitnet_context_n_batch(const bitnet_context *context) {
    return bitnet::non_null(context, __func__, "context") ? static_cast<uint32_t>(context->config.n_batch) : 0;
}

BITNET_API const bitnet_model *bitnet_context_model(const bitnet_context *context) {
    return bitnet::non_null(context, __func__, "context") ? context->model : nullptr;
}

BITNET_API const char *bitnet_context_backend_name(const bitnet_context *context) {
    return bitnet::non_null(context, __func__, "context") ? context->backend_name.c_str() : "";
}

BITNET_API bitnet_status bitnet_batch_new(int32_t capacity, bitnet_batch **out_batch) {
    if (out_batch) *out_batch = nullptr;
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(out_batch != nullptr, function, "out_batch is NULL");
        bitnet::require_argument(capacity > 0 && capacity <= (1 << 24), function, "capacity must be in [1, 2^24]");
        auto batch = std::make_unique<bitnet_batch>();
        batch->capacity = capacity;
        batch->tokens.reserve(capacity);
        batch->positions.reserve(capacity);
        batch->want_logits.reserve(capacity);
        batch->seq_id_offsets.reserve(static_cast<size_t>(capacity) + 1);
        batch->seq_id_offsets.push_back(0);
        batch->seq_ids.reserve(capacity);
        *out_batch = batch.release();
    });
}

BITNET_API void bitnet_batch_clear(bitnet_batch *batch) {
    if (!bitnet::non_null(batch, __func__, "batch")) return;
    batch->tokens.clear();
    batch->positions.clear();
    batch->want_logits.clear();
    batch->seq_id_offsets.resize(1);
    batch->seq_ids.clear();
}

BITNET_API bitnet_status bitnet_batch_add(bitnet_batch *batch, bitnet_token token, int32_t pos,
                                          const int32_t *seq_ids, int32_t n_seq_ids, bool want_logits) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(batch != nullptr, function, "batch is NULL");
        bitnet::require_argument(n_seq_ids >= 1 && n_seq_ids <= 64, function, "n_seq_ids must be in [1, 64]");
        bitnet::require_argument(seq_ids != nullptr, function, "seq_ids is NULL");
        if (batch->size() >= batch->capacity) {
            bitnet::fail(BITNET_ERR_BUFFER_TOO_SMALL, "%s: the batch is full (capacity %d)", function, batch->capacity);
        }
        batch->tokens.push_back(token);
        batch->positions.push_back(pos);
        batch->want_logits.push_back(want_logits ? 1 : 0);
        batch->seq_ids.insert(batch->seq_ids.end(), seq_ids, seq_ids + n_seq_ids);
        batch->seq_id_offsets.push_back(static_cast<int32_t>(batch->seq_ids.size()));
    });
}

BITNET_API int32_t bitnet_batch_size(const bitnet_batch *batch) { return bitnet::non_null(batch, __func__, "batch") ? batch->size() : 0; }

BITNET_API void bitnet_batch_free(bitnet_batch *batch) { delete batch; }

BITNET_API bitnet_status bitnet_decode(bitnet_context *context, const bitnet_batch *batch) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        bitnet::require_argument(batch != nullptr, function, "batch is NULL");
        context->model->mapping.check_not_truncated();
        bitnet::decode(*context, *batch);
    });
}

BITNET_API const float *bitnet_get_logits(bitnet_context *context, int32_t i) {
    const float *logits = nullptr;
    bitnet::api_guard(__func__, [&, function = __func__] {
        int32_t row = output_row(context, i, function);
        logits = context->logits + static_cast<size_t>(row) * context->model->hparams.n_vocab;
    });
    return logits;
}

BITNET_API const float *bitnet_get_embeddings(bitnet_context *context, int32_t i) {
    const float *embeddings = nullptr;
    bitnet::api_guard(__func__, [&, function = __func__] {
        int32_t row = output_row(context, i, function);
        if (!context->embeddings) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the context was created without embeddings", function);
        }
        embeddings = context->embeddings + static_cast<size_t>(row) * context->model->hparams.n_embd;
    });
    return embeddings;
}

}  // extern "C"
