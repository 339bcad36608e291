// Text generation shared by `bitnet run` and `bitnet chat`: sampler options, prompt decoding in
// n_batch chunks, and a streaming loop that stops on end-of-generation tokens or stop strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bitnet.h"

namespace bitnet_cli {

struct SamplingOptions {
    float temperature = 0.8f;  // <= 0: greedy
    int32_t top_k = 40;
    float top_p = 0.95f;
    float min_p = 0.05f;
    float repeat_penalty = 1.0f;
    int32_t repeat_last_n = 64;
    uint32_t seed = BITNET_DEFAULT_SEED;
};

// Consumes a sampling option at argv[*i]; false if it is not one; *error on a bad value.
bool parse_sampling_option(int argc, char **argv, int *i, SamplingOptions *options, std::string *error);
extern const char *const kSamplingOptionsHelp;

// The chain the options describe (penalties, top-k, top-p, min-p, temperature, dist; or greedy).
bitnet_sampler *make_sampler(const SamplingOptions &options);

// "greedy" or "seed N" (the seed actually used, also when it was drawn at random).
std::string describe_sampler(const SamplingOptions &options, const bitnet_sampler *chain);

// Tokenize with the model's vocabulary. false on failure (bitnet_last_error() says why).
bool tokenize(const bitnet_model *model, const std::string &text, bool add_special, bool parse_special,
              std::vector<bitnet_token> *tokens);

// Decode tokens of sequence 0 from position *pos in chunks of the context's n_batch; the last one
// asks for logits. Advances *pos.
bitnet_status decode_prompt(bitnet_context *context, bitnet_batch *batch, const std::vector<bitnet_token> &tokens,
                            int32_t *pos);

struct GenerationResult {
    bitnet_status status = BITNET_OK;
    std::vector<bitnet_token> tokens;  // sampled and decoded (an ending EOG token is not included)
    std::string text;                  // what was printed
    bool ended_by_eog = false;
    bitnet_token end_token = BITNET_TOKEN_NULL;  // the EOG token that ended it (not decoded)
    double seconds = 0.0;
};

// Sample up to n_predict tokens after the last decode, printing text as it completes. Stops at an
// end-of-generation token (unless ignore_eos) or when the text contains one of `stop` (which is
// not printed). Every sampled token except an ending EOG is decoded, so the cache holds the reply.
GenerationResult generate(bitnet_context *context, bitnet_batch *batch, bitnet_sampler *sampler, int32_t *pos,
                          int32_t n_predict, const std::vector<std::string> &stop, bool ignore_eos);

}  // namespace bitnet_cli
