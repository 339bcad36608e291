// bitnet run: generate text from a prompt, streaming it, and report prompt and generation speeds.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bitnet.h"
#include "command.h"
#include "generation.h"
#include "model_options.h"
#include "speculative_options.h"

namespace {

const char *const kUsage =
    "usage: bitnet run -m MODEL (-p TEXT | --tokens \"IDS\") [-n N] [options]\n"
    "  -p, --prompt TEXT     prompt text (tokenized with the model's tokenizer, BOS added as it asks)\n"
    "  --tokens \"IDS\"        prompt as token ids separated by spaces or commas\n"
    "  -n, --n-predict N     most tokens to generate (default 64)\n"
    "  --stop STRING         stop when the text contains STRING (repeatable; not printed; \"\" is ignored)\n"
    "  --ignore-eos          keep generating after an end-of-generation token\n";

void print_usage(FILE *out) {
    std::fprintf(out, "%s%s%s%s", kUsage, bitnet_cli::kSamplingOptionsHelp, bitnet_cli::kSpeculativeOptionsHelp,
                 bitnet_cli::kModelOptionsHelp);
}

int run_generate(int argc, char **argv) {
    bitnet_cli::ModelOptions options;
    bitnet_cli::SamplingOptions sampling;
    bitnet_cli::SpeculativeOptions speculative_options;
    std::string prompt, token_text;
    std::vector<std::string> stop;
    bool have_prompt = false, have_tokens = false, ignore_eos = false;
    long n_predict = 64;
    for (int i = 1; i < argc; ++i) {
        std::string error;
        if (bitnet_cli::parse_model_option(argc, argv, &i, &options, &error) ||
            bitnet_cli::parse_sampling_option(argc, argv, &i, &sampling, &error) ||
            bitnet_cli::parse_speculative_option(argc, argv, &i, &speculative_options, &error)) {
            if (!error.empty()) {
                std::fprintf(stderr, "bitnet run: %s\n", error.c_str());
                return 2;
            }
            continue;
        }
        std::string arg = argv[i];
        if ((arg == "-p" || arg == "--prompt") && i + 1 < argc) {
            prompt = argv[++i];
            have_prompt = true;
        } else if (arg == "--tokens" && i + 1 < argc) {
            token_text = argv[++i];
            have_tokens = true;
        } else if ((arg == "-n" || arg == "--n-predict") && i + 1 < argc) {
            n_predict = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--stop" && i + 1 < argc) {
            stop.push_back(argv[++i]);
        } else if (arg == "--ignore-eos") {
            ignore_eos = true;
        } else if (arg == "-h" || arg == "--help") {
            print_usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "bitnet run: unknown option '%s'\n", arg.c_str());
            print_usage(stderr);
            return 2;
        }
    }
    if (have_prompt == have_tokens || n_predict < 0 || n_predict > (1 << 24)) {
        print_usage(stderr);
        return 2;
    }

    bitnet_model *model = bitnet_cli::load_model_or_report(options, "run");
    if (!model) return 1;
    std::vector<bitnet_token> tokens;
    int exit_code = 0;
    if (have_tokens && (!bitnet_cli::parse_token_list(token_text, &tokens) || tokens.empty())) {
        std::fprintf(stderr, "bitnet run: --tokens needs a list of integer token ids\n");
        exit_code = 2;
    } else if (have_prompt && !bitnet_cli::tokenize(model, prompt, true, false, &tokens)) {
        exit_code = bitnet_cli::report_failure("run", BITNET_ERR_INVALID_ARGUMENT);
    }
    bitnet_context *context = nullptr;
    bitnet_batch *batch = nullptr;
    bitnet_sampler *sampler = nullptr;
    if (exit_code == 0) {
        bitnet_context_params params = bitnet_cli::context_params(options);
        bitnet_cli::prepare_target_params(speculative_options, &params);
        bitnet_status status = bitnet_context_new(model, &params, &context);
        if (status == BITNET_OK) status = bitnet_batch_new(static_cast<int32_t>(bitnet_context_n_batch(context)), &batch);
        if (status == BITNET_OK && !(sampler = bitnet_cli::make_sampler(sampling))) status = BITNET_ERR_INTERNAL;
        bitnet_cli::Speculative speculative;
        const bool speculate = speculative_options.enabled();
        if (status == BITNET_OK && speculate &&
            !bitnet_cli::setup_speculative(speculative_options, options, context, 1, bitnet_sampler_get_seed(sampler), !ignore_eos,
                                           &speculative, "run")) {
            exit_code = 1;
            status = BITNET_ERR_INVALID_ARGUMENT;
        }
        int32_t pos = 0;
        const auto start = std::chrono::steady_clock::now();
        // Speculative decoding verifies the prompt's last token with the first drafts.
        const std::vector<bitnet_token> prefill(tokens.begin(), tokens.end() - (speculate ? 1 : 0));
        if (status == BITNET_OK) status = bitnet_cli::decode_prompt(context, batch, prefill, &pos);
        const double prompt_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (status == BITNET_OK) {
            if (have_prompt) std::fputs(prompt.c_str(), stdout);
            bitnet_cli::GenerationResult result =
                speculate ? bitnet_cli::generate_speculative(context, speculative.helper, sampler, tokens, &pos,
                                                             static_cast<int32_t>(n_predict), stop, ignore_eos)
                          : bitnet_cli::generate(context, batch, sampler, &pos, static_cast<int32_t>(n_predict), stop,
                                                 ignore_eos);
            std::printf("\n");
            status = result.status;
            if (status == BITNET_OK) {
                const double generated = static_cast<double>(result.tokens.size());
                std::fprintf(stderr,
                             "\nprompt: %zu tokens in %.3f s (%.2f tok/s); generation: %zu tokens in %.3f s "
                             "(%.2f tok/s); %s; %s\n",
                             tokens.size(), prompt_seconds, tokens.size() / prompt_seconds, result.tokens.size(),
                             result.seconds, generated > 0 ? generated / result.seconds : 0.0,
                             bitnet_cli::describe_sampler(sampling, sampler).c_str(), bitnet_context_backend_name(context));
                if (speculate) std::fprintf(stderr, "%s\n", bitnet_cli::describe_acceptance(speculative.helper).c_str());
            }
        }
        if (status != BITNET_OK && exit_code == 0) exit_code = bitnet_cli::report_failure("run", status);
    }
    bitnet_sampler_free(sampler);
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return exit_code;
}

bitnet_cli::CommandRegistration registration("run", "generate text from a prompt", run_generate);

}  // namespace
