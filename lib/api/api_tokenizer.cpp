// C API: tokenization, detokenization (whole and streaming) and vocabulary queries.
#include <algorithm>
#include <climits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/guard.h"
#include "bitnet.h"
#include "model/model.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/vocabulary.h"

struct bitnet_detokenizer {
    bitnet::StreamingDetokenizer stream;
};

namespace {

using bitnet::require_argument;

// Count-returning entry points: the body's result, or BITNET_COUNT_ERROR after a failure (the
// guard has set the per-thread message).
template <class Body>
int32_t count_guard(const char *function, Body &&body) noexcept {
    int32_t result = BITNET_COUNT_ERROR;
    bitnet_status status = bitnet::api_guard(function, [&] { result = body(); });
    return status == BITNET_OK ? result : BITNET_COUNT_ERROR;
}

// The model's vocabulary, or NULL with the failure recorded (for queries answering with a neutral value).
const bitnet::Vocabulary *vocab_or_record(const bitnet_model *model, const char *function) {
    if (!bitnet::non_null(model, function, "model")) return nullptr;
    if (!model->vocab) {
        bitnet::record_failure(BITNET_ERR_INVALID_ARGUMENT, "%s: the model has no vocabulary (its file has no tokenizer metadata)",
                               function);
    }
    return model->vocab.get();
}

// As vocab_or_record, and `token` must be in the vocabulary.
const bitnet::Vocabulary *vocab_with_token_or_record(const bitnet_model *model, bitnet_token token, const char *function) {
    const bitnet::Vocabulary *vocab = vocab_or_record(model, function);
    if (vocab && !vocab->valid(token)) {
        bitnet::record_failure(BITNET_ERR_INVALID_INPUT, "%s: token id %d is outside the vocabulary (0..%d)", function, token,
                               vocab->n_tokens() - 1);
        return nullptr;
    }
    return vocab;
}

const bitnet::Vocabulary &require_vocab(const bitnet_model *model, const char *function) {
    require_argument(model != nullptr, function, "model is NULL");
    if (!model->vocab) {
        bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the model has no vocabulary (its file has no tokenizer metadata)",
                     function);
    }
    return *model->vocab;
}

void require_token(const bitnet::Vocabulary &vocab, bitnet_token token, const char *function) {
    if (!vocab.valid(token)) {
        bitnet::fail(BITNET_ERR_INVALID_INPUT, "%s: token id %d is outside the vocabulary (0..%d)", function, token,
                     vocab.n_tokens() - 1);
    }
}

void require_buffer(const void *buffer, int32_t capacity, const char *function) {
    require_argument(capacity >= 0, function, "capacity is negative");
    require_argument(buffer != nullptr || capacity == 0, function, "the output buffer is NULL but capacity > 0");
}

// Copy `count` items to the caller, or report how many are needed.
template <class T>
int32_t deliver(const T *items, size_t count, T *out, int32_t capacity, const char *function) {
    if (count > static_cast<size_t>(INT32_MAX)) {
        bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the result (%zu items) does not fit in an int32_t count", function, count);
    }
    if (count > static_cast<size_t>(capacity)) return -static_cast<int32_t>(count);
    std::copy(items, items + count, out);
    return static_cast<int32_t>(count);
}

int32_t deliver_text(std::string_view text, char *buf, int32_t capacity, const char *function) {
    return deliver(text.data(), text.size(), buf, capacity, function);
}

}  // namespace

extern "C" {

BITNET_API int32_t bitnet_tokenize(const bitnet_model *model, const char *text, int32_t text_len, bitnet_token *tokens,
                                   int32_t capacity, bool add_special, bool parse_special) {
    return count_guard(__func__, [&, function = __func__] {
        const bitnet::Vocabulary &vocab = require_vocab(model, function);
        require_argument(text_len >= 0, function, "text_len is negative");
        require_argument(text != nullptr || text_len == 0, function, "text is NULL");
        require_buffer(tokens, capacity, function);
        std::vector<bitnet_token> out;
        vocab.tokenize(std::string_view(text ? text : "", static_cast<size_t>(text_len)), add_special, parse_special, out);
        return deliver(out.data(), out.size(), tokens, capacity, function);
    });
}

BITNET_API int32_t bitnet_token_to_piece(const bitnet_model *model, bitnet_token token, char *buf, int32_t capacity,
                                         bool render_special) {
    return count_guard(__func__, [&, function = __func__] {
        const bitnet::Vocabulary &vocab = require_vocab(model, function);
        require_buffer(buf, capacity, function);
        require_token(vocab, token, function);
        return deliver_text(vocab.piece(token, render_special), buf, capacity, function);
    });
}

BITNET_API int32_t bitnet_detokenize(const bitnet_model *model, const bitnet_token *tokens, int32_t n_tokens, char *buf,
                                     int32_t capacity, bool remove_special, bool render_special) {
    return count_guard(__func__, [&, function = __func__] {
        const bitnet::Vocabulary &vocab = require_vocab(model, function);
        require_argument(n_tokens >= 0, function, "n_tokens is negative");
        require_argument(tokens != nullptr || n_tokens == 0, function, "tokens is NULL");
        require_buffer(buf, capacity, function);
        std::string text = bitnet::detokenize(vocab, std::span<const bitnet_token>(tokens, static_cast<size_t>(n_tokens)),
                                              remove_special, render_special);
        return deliver_text(text, buf, capacity, function);
    });
}

BITNET_API int32_t bitnet_vocab_n_tokens(const bitnet_model *model) {
    const bitnet::Vocabulary *vocab = vocab_or_record(model, __func__);
    return vocab ? vocab->n_tokens() : 0;
}

BITNET_API bitnet_token bitnet_vocab_bos(const bitnet_model *model) {
    const bitnet::Vocabulary *vocab = vocab_or_record(model, __func__);
    return vocab ? vocab->bos() : BITNET_TOKEN_NULL;
}

BITNET_API bitnet_token bitnet_vocab_eos(const bitnet_model *model) {
    const bitnet::Vocabulary *vocab = vocab_or_record(model, __func__);
    return vocab ? vocab->eos() : BITNET_TOKEN_NULL;
}

BITNET_API bitnet_token bitnet_vocab_eot(const bitnet_model *model) {
    const bitnet::Vocabulary *vocab = vocab_or_record(model, __func__);
    return vocab ? vocab->eot() : BITNET_TOKEN_NULL;
}

BITNET_API bool bitnet_token_is_eog(const bitnet_model *model, bitnet_token token) {
    const bitnet::Vocabulary *vocab = vocab_with_token_or_record(model, token, __func__);
    return vocab && vocab->is_eog(token);
}

BITNET_API const char *bitnet_token_text(const bitnet_model *model, bitnet_token token) {
    const bitnet::Vocabulary *vocab = vocab_with_token_or_record(model, token, __func__);
    return vocab ? vocab->text_c_str(token) : nullptr;
}

BITNET_API bitnet_token_type bitnet_token_get_type(const bitnet_model *model, bitnet_token token) {
    const bitnet::Vocabulary *vocab = vocab_with_token_or_record(model, token, __func__);
    return vocab ? vocab->type(token) : BITNET_TOKEN_TYPE_UNDEFINED;
}

BITNET_API bitnet_status bitnet_detokenizer_new(const bitnet_model *model, bool render_special, bitnet_detokenizer **out) {
    if (out) *out = nullptr;
    return bitnet::api_guard(__func__, [&, function = __func__] {
        require_argument(out != nullptr, function, "out is NULL");
        const bitnet::Vocabulary &vocab = require_vocab(model, function);
        *out = new bitnet_detokenizer{bitnet::StreamingDetokenizer(vocab, render_special)};
    });
}

BITNET_API int32_t bitnet_detokenizer_push(bitnet_detokenizer *detokenizer, bitnet_token token, char *buf,
                                           int32_t capacity) {
    return count_guard(__func__, [&, function = __func__] {
        require_argument(detokenizer != nullptr, function, "detokenizer is NULL");
        require_buffer(buf, capacity, function);
        bitnet::StreamingDetokenizer::Step step = detokenizer->stream.push(token);
        int32_t written = deliver_text(step.text, buf, capacity, function);
        if (written >= 0) detokenizer->stream.commit(std::move(step));
        return written;
    });
}

BITNET_API int32_t bitnet_detokenizer_flush(bitnet_detokenizer *detokenizer, char *buf, int32_t capacity) {
    return count_guard(__func__, [&, function = __func__] {
        require_argument(detokenizer != nullptr, function, "detokenizer is NULL");
        require_buffer(buf, capacity, function);
        bitnet::StreamingDetokenizer::Step step = detokenizer->stream.flush();
        int32_t written = deliver_text(step.text, buf, capacity, function);
        if (written >= 0) detokenizer->stream.commit(std::move(step));
        return written;
    });
}

BITNET_API void bitnet_detokenizer_free(bitnet_detokenizer *detokenizer) { delete detokenizer; }

}  // extern "C"
