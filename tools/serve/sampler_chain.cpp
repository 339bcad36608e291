#include "sampler_chain.h"

#include <vector>

namespace bitnet_serve {

namespace {
// How many recent tokens the presence and frequency penalties look at (llama-server's default).
constexpr int32_t kPenaltyWindow = 64;
}  // namespace

bitnet_sampler *make_sampler_chain(const SamplingParams &params, int32_t n_vocab) {
    bitnet_sampler *chain = nullptr;
    if (bitnet_sampler_chain_new(nullptr, &chain) != BITNET_OK) return nullptr;
    bool ok = true;
    bitnet_sampler *member = nullptr;
    // Each init call fills `member`; the chain then takes it.
    auto add = [&](bitnet_status status) {
        if (status != BITNET_OK) {
            ok = false;
        } else if (bitnet_sampler_chain_add(chain, member) != BITNET_OK) {
            bitnet_sampler_free(member);
            ok = false;
        }
    };
    if (params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f) {
        add(bitnet_sampler_init_penalties(kPenaltyWindow, 1.0f, params.frequency_penalty, params.presence_penalty,
                                          &member));
    }
    if (!params.logit_bias.empty()) {
        std::vector<bitnet_logit_bias> biases;
        for (const auto &[token, bias] : params.logit_bias) biases.push_back({token, bias});
        add(bitnet_sampler_init_logit_bias(n_vocab, biases.data(), static_cast<int32_t>(biases.size()), &member));
    }
    if (params.temperature <= 0.0f) {
        add(bitnet_sampler_init_greedy(&member));
    } else {
        if (params.top_k > 0) add(bitnet_sampler_init_top_k(params.top_k, &member));
        if (params.top_p < 1.0f) add(bitnet_sampler_init_top_p(params.top_p, 1, &member));
        if (params.min_p > 0.0f) add(bitnet_sampler_init_min_p(params.min_p, 1, &member));
        add(bitnet_sampler_init_temperature(params.temperature, &member));
        add(bitnet_sampler_init_dist(params.seed, &member));
    }
    if (!ok) {
        bitnet_sampler_free(chain);
        return nullptr;
    }
    return chain;
}

}  // namespace bitnet_serve
