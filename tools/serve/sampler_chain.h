// The sampler chain of one request.
#pragma once

#include "bitnet.h"
#include "request_parser.h"

namespace bitnet_serve {

// Penalties and logit bias first, then top-k, top-p, min-p, temperature and dist: the order
// `bitnet run` uses (tools/cli/generation.cpp), so the same settings and seed give the same
// tokens. temperature <= 0 selects greedily. Null on failure (bitnet_last_error() says why).
bitnet_sampler *make_sampler_chain(const SamplingParams &params, int32_t n_vocab);

}  // namespace bitnet_serve
