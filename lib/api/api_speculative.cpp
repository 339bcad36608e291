// C API: speculative decoding (lib/speculative/).
#include <cstring>

#include "api/guard.h"
#include "api/params_reader.h"
#include "bitnet.h"
#include "runtime/context.h"
#include "sampler/sampler.h"
#include "speculative/speculative.h"

extern "C" {

BITNET_API bitnet_speculative_params bitnet_speculative_default_params(void) {
    bitnet_speculative_params params;
    std::memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.draft_context = nullptr;
    params.draft_max = 8;
    params.lookup_ngram = 3;
    params.seed = BITNET_DEFAULT_SEED;
    params.stop_at_eog = true;
    return params;
}

BITNET_API bitnet_status bitnet_speculative_new(bitnet_context *target, const bitnet_speculative_params *params,
                                                bitnet_speculative **out_speculative) {
    if (out_speculative) *out_speculative = nullptr;
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(out_speculative != nullptr, function, "out_speculative is NULL");
        bitnet::require_argument(target != nullptr, function, "target is NULL");
        const bitnet_speculative_params read = bitnet::read_params(params, bitnet_speculative_default_params(), function,
                                                                   "bitnet_speculative_default_params");
        *out_speculative = bitnet::speculative::create(*target, read, function);
    });
}

BITNET_API int32_t bitnet_speculative_generate(bitnet_speculative *speculative, bitnet_sampler *sampler, int32_t seq,
                                               const bitnet_token *tokens, int32_t n_tokens, bitnet_token *out,
                                               int32_t capacity) {
    int32_t count = BITNET_COUNT_ERROR;
    bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(speculative != nullptr, function, "speculative is NULL");
        bitnet::require_argument(sampler != nullptr, function, "sampler is NULL");
        bitnet::require_argument(tokens != nullptr, function, "tokens is NULL");
        bitnet::require_argument(out != nullptr, function, "out is NULL");
        count = bitnet::speculative::generate(*speculative, *sampler, seq, tokens, n_tokens, out, capacity, function);
    });
    return count;
}

BITNET_API bitnet_status bitnet_speculative_get_stats(const bitnet_speculative *speculative,
                                                      bitnet_speculative_stats *out) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(speculative != nullptr, function, "speculative is NULL");
        bitnet::require_argument(out != nullptr, function, "out is NULL");
        const size_t size = out->struct_size;
        if (size < sizeof(size_t) + sizeof(int64_t)) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: out->struct_size %zu is too small (set it to "
                         "sizeof(bitnet_speculative_stats))", function, size);
        }
        // Write only the fields the caller's struct has.
        bitnet_speculative_stats stats = speculative->stats;
        const size_t n = size < sizeof stats ? size : sizeof stats;
        stats.struct_size = size;
        std::memcpy(out, &stats, n);
    });
}

BITNET_API void bitnet_speculative_free(bitnet_speculative *speculative) { delete speculative; }

}  // extern "C"
