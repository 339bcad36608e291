// Speculative decoding for `bitnet run`, `bitnet chat` and `bitnet serve`: the --draft-model,
// --draft-max and --lookup options, the draft model and helper they set up, and the generation
// loop over bitnet_speculative_generate().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bitnet.h"
#include "generation.h"
#include "model_options.h"

namespace bitnet_cli {

struct SpeculativeOptions {
    std::string draft_model;  // --draft-model PATH
    int32_t draft_max = 8;    // --draft-max N: most tokens drafted per step
    int32_t lookup = 0;       // --lookup N: prompt lookup matching the last N tokens (0 = off)
    bool enabled() const { return !draft_model.empty() || lookup > 0; }
};

// Consumes a speculative option at argv[*i]; false if it is not one; *error on a bad value.
bool parse_speculative_option(int argc, char **argv, int *i, SpeculativeOptions *options, std::string *error);
extern const char *const kSpeculativeOptionsHelp;

// The target context must verify draft_max + 1 tokens per decode.
void prepare_target_params(const SpeculativeOptions &options, bitnet_context_params *params);

// The draft model and context (when --draft-model) and the helper over `target`.
struct Speculative {
    bitnet_model *draft_model = nullptr;
    bitnet_context *draft_context = nullptr;
    bitnet_speculative *helper = nullptr;
    Speculative() = default;
    Speculative(const Speculative &) = delete;
    Speculative &operator=(const Speculative &) = delete;
    ~Speculative();
};

// Sets up `out` for `n_seq` sequences of `target`; prints the failure naming `command` and
// returns false. `model_options` gives the draft context's threads, backend and KV type.
bool setup_speculative(const SpeculativeOptions &options, const ModelOptions &model_options, bitnet_context *target,
                       uint32_t n_seq, uint32_t seed, bool stop_at_eog, Speculative *out, const char *command);

// "draft: N drafted, M accepted (R%)" from the helper's counts.
std::string describe_acceptance(const bitnet_speculative *helper);

// bitnet_cli::generate through the helper. On entry the context's sequence 0 holds every token of
// `history` but the last; on return, as after generate(), it holds history and the returned
// tokens (an ending EOG token excluded), and *pos is their count.
GenerationResult generate_speculative(bitnet_context *context, bitnet_speculative *helper, bitnet_sampler *sampler,
                                      const std::vector<bitnet_token> &history, int32_t *pos, int32_t n_predict,
                                      const std::vector<std::string> &stop, bool ignore_eos);

}  // namespace bitnet_cli
