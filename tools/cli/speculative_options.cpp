#include "speculative_options.h"

#include "command.h"

#include <cstdio>
#include <cstdlib>

namespace bitnet_cli {

const char *const kSpeculativeOptionsHelp =
    "  --draft-model PATH    speculative decoding: a smaller model with the same vocabulary drafts tokens\n"
    "  --lookup N            speculative decoding by prompt lookup: N = the n-gram size, the last N tokens\n"
    "                        are matched earlier in the context and what followed is the draft (1..16)\n"
    "  --draft-max N         most tokens drafted per step, verified in one decode (default 8, 1..64)\n";

bool parse_speculative_option(int argc, char **argv, int *i, SpeculativeOptions *options, std::string *error) {
    const std::string arg = argv[*i];
    if (arg != "--draft-model" && arg != "--lookup" && arg != "--draft-max") return false;
    if (*i + 1 >= argc) {
        *error = arg + " needs a value";
        return true;
    }
    const char *text = argv[++*i];
    if (arg == "--draft-model") {
        options->draft_model = text;
        return true;
    }
    char *end = nullptr;
    const long value = std::strtol(text, &end, 10);
    const long most = arg == "--lookup" ? 16 : 64;
    if (*end || !*text || value < 1 || value > most) {
        *error = arg + " needs an integer in [1, " + std::to_string(most) + "], got '" + text + "'";
        return true;
    }
    (arg == "--lookup" ? options->lookup : options->draft_max) = static_cast<int32_t>(value);
    return true;
}

void prepare_target_params(const SpeculativeOptions &options, bitnet_context_params *params) {
    if (!options.enabled()) return;
    const uint32_t verified = static_cast<uint32_t>(options.draft_max) + 1;
    if (params->n_outputs_max < verified) params->n_outputs_max = verified;
    if (params->n_batch != 0 && params->n_batch < verified) params->n_batch = verified;
}

Speculative::~Speculative() {
    bitnet_speculative_free(helper);
    bitnet_context_free(draft_context);
    bitnet_model_free(draft_model);
}

bool setup_speculative(const SpeculativeOptions &options, const ModelOptions &model_options, bitnet_context *target,
                       uint32_t n_seq, uint32_t seed, bool stop_at_eog, Speculative *out, const char *command) {
    if (!options.draft_model.empty() && options.lookup > 0) {
        std::fprintf(stderr, "bitnet %s: --draft-model and --lookup are two draft sources: choose one\n", command);
        return false;
    }
    bitnet_status status = BITNET_OK;
    if (!options.draft_model.empty()) {
        ModelOptions draft_options = model_options;
        draft_options.model_path = options.draft_model;
        if (!(out->draft_model = load_model_or_report(draft_options, command))) return false;
        bitnet_context_params params = context_params(model_options);
        params.n_ctx = bitnet_context_n_ctx(target);
        params.n_seq_max = n_seq;
        status = bitnet_context_new(out->draft_model, &params, &out->draft_context);
    }
    if (status == BITNET_OK) {
        bitnet_speculative_params params = bitnet_speculative_default_params();
        params.draft_context = out->draft_context;
        params.draft_max = options.draft_max;
        if (options.lookup > 0) params.lookup_ngram = options.lookup;
        params.seed = seed;
        params.stop_at_eog = stop_at_eog;
        status = bitnet_speculative_new(target, &params, &out->helper);
    }
    if (status != BITNET_OK) {
        report_failure(command, status);
        return false;
    }
    return true;
}

std::string describe_acceptance(const bitnet_speculative *helper) {
    bitnet_speculative_stats stats{};
    stats.struct_size = sizeof stats;
    if (bitnet_speculative_get_stats(helper, &stats) != BITNET_OK) return "draft: no counts";
    char text[160];
    std::snprintf(text, sizeof text, "draft: %lld drafted, %lld accepted (%.1f%%), %.2f tokens per target decode",
                  static_cast<long long>(stats.n_drafted), static_cast<long long>(stats.n_accepted),
                  stats.n_drafted > 0 ? 100.0 * static_cast<double>(stats.n_accepted) / static_cast<double>(stats.n_drafted) : 0.0,
                  stats.n_calls > 0 ? static_cast<double>(stats.n_generated) / static_cast<double>(stats.n_calls) : 0.0);
    return text;
}

}  // namespace bitnet_cli
