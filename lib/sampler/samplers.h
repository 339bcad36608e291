// Constructors of the built-in samplers. Parameters are checked by the C API (lib/api/
// api_sampler.cpp) before these are called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "sampler/sampler.h"

namespace bitnet::sampling {

std::unique_ptr<bitnet_sampler> make_greedy();
std::unique_ptr<bitnet_sampler> make_dist(uint32_t seed);
std::unique_ptr<bitnet_sampler> make_temperature(float temperature);
std::unique_ptr<bitnet_sampler> make_top_k(int32_t k);
std::unique_ptr<bitnet_sampler> make_top_p(float p, size_t min_keep);
std::unique_ptr<bitnet_sampler> make_min_p(float p, size_t min_keep);
std::unique_ptr<bitnet_sampler> make_typical(float p, size_t min_keep);
std::unique_ptr<bitnet_sampler> make_penalties(int32_t last_n, float repeat, float frequency, float presence);
std::unique_ptr<bitnet_sampler> make_logit_bias(int32_t n_vocab, std::span<const bitnet_logit_bias> biases);
std::unique_ptr<bitnet_sampler> make_custom(const bitnet_sampler_callbacks &callbacks);

}  // namespace bitnet::sampling
