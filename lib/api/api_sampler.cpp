// C API: sampler chains, their members, custom samplers and sampling.
// This file also defines the experimental bitnet_sampler_perf() (see bitnet.h), so it asks for
// the experimental declarations before anything includes the header.
#define BITNET_EXPERIMENTAL
#include <cmath>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "api/guard.h"
#include "api/params_reader.h"
#include "bitnet.h"
#include "sampler/candidates.h"
#include "sampler/chain.h"
#include "sampler/sampler.h"
#include "sampler/samplers.h"

namespace {

using bitnet::require_argument;

// Constructors: check the out pointer, build, hand over.
template <class Make>
bitnet_status construct(const char *function, bitnet_sampler **out_sampler, Make &&make) noexcept {
    if (out_sampler) *out_sampler = nullptr;
    return bitnet::api_guard(function, [&] {
        require_argument(out_sampler != nullptr, function, "out_sampler is NULL");
        *out_sampler = make().release();
    });
}

// top-p, min-p and typical take a probability: NaN or a value outside [0, 1] is a caller's
// mistake (a percentage, a swapped argument), refused rather than clamped.
void require_probability(float p, const char *function) {
    if (!(p >= 0.0f && p <= 1.0f)) bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: p %g is not a probability in [0, 1]", function, p);
}

// The chain behind `chain`, or NULL with the failure recorded (NULL, or a sampler that is no chain).
const bitnet::sampling::SamplerChain *chain_or_record(const bitnet_sampler *chain, const char *function) {
    if (!bitnet::non_null(chain, function, "chain")) return nullptr;
    const bitnet::sampling::SamplerChain *target = bitnet::sampling::as_chain(chain);
    if (!target) {
        bitnet::record_failure(BITNET_ERR_INVALID_ARGUMENT, "%s: the sampler '%s' is not a chain", function, chain->name());
    }
    return target;
}

void require_sampler(const bitnet_sampler *sampler, const char *function) {
    require_argument(sampler != nullptr, function, "sampler is NULL");
}

// Both sample entry points: `logits_of` yields the logits and n_vocab, or throws.
template <class Logits>
bitnet_token sample_guard(const char *function, bitnet_sampler *sampler, Logits &&logits_of) noexcept {
    bitnet_token token = BITNET_TOKEN_NULL;
    bitnet::api_guard(function, [&] {
        require_sampler(sampler, function);
        auto [logits, n_vocab] = logits_of();
        require_argument(logits != nullptr, function, "logits is NULL");
        require_argument(n_vocab > 0, function, "n_vocab must be positive");
        token = bitnet::sampling::sample_logits(*sampler, logits, n_vocab, function);
    });
    return token;
}

}  // namespace

extern "C" {

BITNET_API bitnet_sampler_chain_params bitnet_sampler_chain_default_params(void) {
    bitnet_sampler_chain_params params;
    std::memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.no_perf = false;
    return params;
}

BITNET_API bitnet_status bitnet_sampler_chain_new(const bitnet_sampler_chain_params *params, bitnet_sampler **out_chain) {
    return construct(__func__, out_chain, [&, function = __func__] {
        const bitnet_sampler_chain_params read = bitnet::read_params(params, bitnet_sampler_chain_default_params(),
                                                                     function, "bitnet_sampler_chain_default_params");
        return std::make_unique<bitnet::sampling::SamplerChain>(!read.no_perf);
    });
}

BITNET_API bitnet_status bitnet_sampler_chain_add(bitnet_sampler *chain, bitnet_sampler *member) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        require_argument(chain != nullptr, function, "chain is NULL");
        require_argument(member != nullptr, function, "member is NULL");
        bitnet::sampling::SamplerChain *target = bitnet::sampling::as_chain(chain);
        require_argument(target != nullptr, function, "chain is not a chain (make it with bitnet_sampler_chain_new())");
        std::unique_ptr<bitnet_sampler> owned(member);
        try {
            target->add(owned);
        } catch (...) {
            // On failure the caller keeps the member.
            (void)owned.release();
            throw;
        }
    });
}

BITNET_API int32_t bitnet_sampler_chain_n(const bitnet_sampler *chain) {
    const bitnet::sampling::SamplerChain *target = chain_or_record(chain, __func__);
    return target ? static_cast<int32_t>(target->size()) : 0;
}

BITNET_API bitnet_sampler *bitnet_sampler_chain_get(const bitnet_sampler *chain, int32_t i) {
    const bitnet::sampling::SamplerChain *target = chain_or_record(chain, __func__);
    if (!target) return nullptr;
    if (i < 0 || static_cast<size_t>(i) >= target->size()) {
        bitnet::record_failure(BITNET_ERR_INVALID_ARGUMENT, "%s: index %d is outside the chain's %zu members", __func__, i,
                               target->size());
        return nullptr;
    }
    return target->member(static_cast<size_t>(i));
}

BITNET_API bitnet_status bitnet_sampler_init_greedy(bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [] { return bitnet::sampling::make_greedy(); });
}

BITNET_API bitnet_status bitnet_sampler_init_dist(uint32_t seed, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&] { return bitnet::sampling::make_dist(seed); });
}

BITNET_API bitnet_status bitnet_sampler_init_temperature(float temperature, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_argument(std::isfinite(temperature), function, "temperature must be finite");
        return bitnet::sampling::make_temperature(temperature);
    });
}

BITNET_API bitnet_status bitnet_sampler_init_top_k(int32_t k, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&] { return bitnet::sampling::make_top_k(k); });
}

BITNET_API bitnet_status bitnet_sampler_init_top_p(float p, size_t min_keep, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_probability(p, function);
        return bitnet::sampling::make_top_p(p, min_keep);
    });
}

BITNET_API bitnet_status bitnet_sampler_init_min_p(float p, size_t min_keep, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_probability(p, function);
        return bitnet::sampling::make_min_p(p, min_keep);
    });
}

BITNET_API bitnet_status bitnet_sampler_init_typical(float p, size_t min_keep, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_probability(p, function);
        return bitnet::sampling::make_typical(p, min_keep);
    });
}

BITNET_API bitnet_status bitnet_sampler_init_penalties(int32_t last_n, float repeat, float frequency, float presence,
                                                       bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_argument(last_n >= 0 && last_n <= (1 << 20), function, "last_n must be in [0, 2^20]");
        require_argument(std::isfinite(repeat) && repeat > 0.0f, function, "repeat must be finite and positive");
        require_argument(std::isfinite(frequency), function, "frequency must be finite");
        require_argument(std::isfinite(presence), function, "presence must be finite");
        return bitnet::sampling::make_penalties(last_n, repeat, frequency, presence);
    });
}

BITNET_API bitnet_status bitnet_sampler_init_logit_bias(int32_t n_vocab, const bitnet_logit_bias *biases,
                                                        int32_t n_biases, bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_argument(n_vocab > 0, function, "n_vocab must be positive");
        require_argument(n_biases >= 0, function, "n_biases is negative");
        require_argument(biases != nullptr || n_biases == 0, function, "biases is NULL but n_biases > 0");
        std::span<const bitnet_logit_bias> list(biases, static_cast<size_t>(n_biases));
        for (size_t i = 0; i < list.size(); ++i) {
            if (list[i].token < 0 || list[i].token >= n_vocab) {
                bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: biases[%zu].token %d is outside the vocabulary (0..%d)",
                             function, i, list[i].token, n_vocab - 1);
            }
            if (std::isnan(list[i].bias) || list[i].bias == INFINITY) {
                bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: biases[%zu].bias must be finite or -INFINITY", function, i);
            }
        }
        return bitnet::sampling::make_logit_bias(n_vocab, list);
    });
}

BITNET_API bitnet_status bitnet_sampler_init_custom(const bitnet_sampler_callbacks *callbacks,
                                                    bitnet_sampler **out_sampler) {
    return construct(__func__, out_sampler, [&, function = __func__] {
        require_argument(callbacks != nullptr, function, "callbacks is NULL");
        if (callbacks->version != BITNET_SAMPLER_CALLBACKS_VERSION) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: callbacks->version is %u; this library knows version %u",
                         function, callbacks->version, static_cast<unsigned>(BITNET_SAMPLER_CALLBACKS_VERSION));
        }
        require_argument(callbacks->apply != nullptr, function, "callbacks->apply is NULL");
        return bitnet::sampling::make_custom(*callbacks);
    });
}

BITNET_API bitnet_token bitnet_sampler_sample(bitnet_sampler *sampler, bitnet_context *context, int32_t i) {
    return sample_guard(__func__, sampler, [&, function = __func__] {
        require_argument(context != nullptr, function, "context is NULL");
        const float *logits = bitnet_get_logits(context, i);
        if (!logits) bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: %s", function, bitnet_last_error());
        return std::pair<const float *, int32_t>(logits, bitnet_model_n_vocab(bitnet_context_model(context)));
    });
}

BITNET_API bitnet_token bitnet_sampler_sample_logits(bitnet_sampler *sampler, const float *logits, int32_t n_vocab) {
    return sample_guard(__func__, sampler, [&] { return std::pair<const float *, int32_t>(logits, n_vocab); });
}

BITNET_API bitnet_status bitnet_sampler_apply(bitnet_sampler *sampler, bitnet_token_data_array *candidates) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        require_sampler(sampler, function);
        require_argument(candidates != nullptr, function, "candidates is NULL");
        require_argument(candidates->data != nullptr || candidates->size == 0, function,
                         "candidates->data is NULL but size > 0");
        require_argument(candidates->selected >= -1 && candidates->selected < static_cast<int64_t>(candidates->size),
                         function, "candidates->selected must be -1 or an index into data");
        bitnet::sampling::require_no_nan(*candidates, function);
        sampler->apply(*candidates);
    });
}

BITNET_API bitnet_status bitnet_sampler_accept(bitnet_sampler *sampler, bitnet_token token) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        require_sampler(sampler, function);
        require_argument(token >= 0, function, "token is negative");
        sampler->accept(token);
    });
}

BITNET_API void bitnet_sampler_reset(bitnet_sampler *sampler) {
    if (!bitnet::non_null(sampler, __func__, "sampler")) return;
    bitnet::api_guard(__func__, [&] { sampler->reset(); });
}

BITNET_API const char *bitnet_sampler_name(const bitnet_sampler *sampler) {
    const char *name = "";
    if (bitnet::non_null(sampler, __func__, "sampler")) bitnet::api_guard(__func__, [&] { name = sampler->name(); });
    return name;
}

BITNET_API uint32_t bitnet_sampler_get_seed(const bitnet_sampler *sampler) {
    if (!bitnet::non_null(sampler, __func__, "sampler")) return BITNET_DEFAULT_SEED;
    return sampler->seed().value_or(BITNET_DEFAULT_SEED);
}

BITNET_API bitnet_sampler_perf_data bitnet_sampler_perf(const bitnet_sampler *chain) {
    bitnet_sampler_perf_data data{0.0, 0};
    if (chain_or_record(chain, __func__)) {
        data.t_sample_ms = chain->t_sample_ms;
        data.n_sample = chain->n_sample;
    }
    return data;
}

BITNET_API void bitnet_sampler_perf_reset(bitnet_sampler *chain) {
    if (!chain_or_record(chain, __func__)) return;
    chain->t_sample_ms = 0.0;
    chain->n_sample = 0;
}

BITNET_API void bitnet_sampler_free(bitnet_sampler *sampler) {
    if (!sampler) return;
    if (sampler->owned_by_chain) {
        LOG_ERROR("bitnet_sampler_free: the sampler '%s' belongs to a chain, which frees it; the call is ignored",
                  sampler->name());
        return;
    }
    delete sampler;
}

}  // extern "C"
