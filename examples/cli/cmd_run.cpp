// bitnet run: generate text greedily from a prompt and report prompt and generation speeds.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bitnet.h"
#include "command.h"
#include "model_options.h"

namespace {

const char *const kUsage =
    "usage: bitnet run -m MODEL (-p TEXT | --tokens \"IDS\") [-n N] [options]\n"
    "  -p, --prompt TEXT     prompt text (tokenized with the model's tokenizer, BOS added)\n"
    "  --tokens \"IDS\"        prompt as token ids separated by spaces or commas\n"
    "  -n, --n-predict N     tokens to generate (default 32)\n"
    "  --ignore-eos          keep generating after an end-of-generation token\n";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

bitnet_token argmax(const float *logits, int32_t n) {
    bitnet_token best = 0;
    for (int32_t i = 1; i < n; ++i) {
        if (logits[i] > logits[best]) best = i;
    }
    return best;
}

void print_token(const bitnet_model *model, bitnet_detokenizer *detokenizer, bitnet_token token) {
    if (!detokenizer) {
        std::printf(" %d", token);
        std::fflush(stdout);
        return;
    }
    char piece[256];
    int32_t n = bitnet_detokenizer_push(detokenizer, token, piece, sizeof piece);
    if (n > 0) {
        std::fwrite(piece, 1, static_cast<size_t>(n), stdout);
        std::fflush(stdout);
    }
}

bool tokenize_prompt(const bitnet_model *model, const std::string &prompt, std::vector<bitnet_token> *tokens) {
    int32_t n = bitnet_tokenize(model, prompt.data(), static_cast<int32_t>(prompt.size()), nullptr, 0, true, false);
    if (n == BITNET_COUNT_ERROR) return false;
    tokens->resize(static_cast<size_t>(n < 0 ? -n : n));
    n = bitnet_tokenize(model, prompt.data(), static_cast<int32_t>(prompt.size()), tokens->data(),
                        static_cast<int32_t>(tokens->size()), true, false);
    if (n < 0) return false;
    tokens->resize(static_cast<size_t>(n));
    return true;
}

int run_generate(int argc, char **argv) {
    bitnet_cli::ModelOptions options;
    std::string prompt, token_text;
    bool have_prompt = false, have_tokens = false, ignore_eos = false;
    long n_predict = 32;
    for (int i = 1; i < argc; ++i) {
        std::string error;
        if (bitnet_cli::parse_model_option(argc, argv, &i, &options, &error)) {
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
        } else if (arg == "--ignore-eos") {
            ignore_eos = true;
        } else if (arg == "-h" || arg == "--help") {
            std::printf("%s%s", kUsage, bitnet_cli::kModelOptionsHelp);
            return 0;
        } else {
            std::fprintf(stderr, "bitnet run: unknown option '%s'\n%s%s", arg.c_str(), kUsage,
                         bitnet_cli::kModelOptionsHelp);
            return 2;
        }
    }
    if (have_prompt == have_tokens || n_predict < 0) {
        std::fprintf(stderr, "%s%s", kUsage, bitnet_cli::kModelOptionsHelp);
        return 2;
    }

    bitnet_model *model = bitnet_cli::load_model_or_report(options, "run");
    if (!model) return 1;
    std::vector<bitnet_token> tokens;
    if (have_tokens && (!bitnet_cli::parse_token_list(token_text, &tokens) || tokens.empty())) {
        std::fprintf(stderr, "bitnet run: --tokens needs a list of integer token ids\n");
        bitnet_model_free(model);
        return 2;
    }
    if (have_prompt && !tokenize_prompt(model, prompt, &tokens)) {
        bitnet_model_free(model);
        return bitnet_cli::report_failure("run", BITNET_ERR_INVALID_ARGUMENT);
    }

    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = options.n_ctx;
    params.n_threads = options.n_threads;
    params.kv_type = options.kv_type;
    params.quantize_activations = options.quantize_activations;
    params.backend = options.backend;
    bitnet_context *context = nullptr;
    bitnet_batch *batch = nullptr;
    bitnet_detokenizer *detokenizer = nullptr;
    int exit_code = 0;
    bitnet_status status = bitnet_context_new(model, &params, &context);
    if (status == BITNET_OK) status = bitnet_batch_new(static_cast<int32_t>(bitnet_context_n_batch(context)), &batch);
    if (status == BITNET_OK && bitnet_vocab_n_tokens(model) > 0) {
        status = bitnet_detokenizer_new(model, false, &detokenizer);
    }
    const int32_t seq = 0;
    int32_t n_vocab = bitnet_model_n_vocab(model);
    int32_t pos = 0;
    double prompt_seconds = 0, generate_seconds = 0;
    long generated = 0;
    if (status == BITNET_OK) {
        // The prompt goes in n_batch-sized chunks; the last entry asks for logits.
        auto start = Clock::now();
        const int32_t n_batch = static_cast<int32_t>(bitnet_context_n_batch(context));
        for (size_t first = 0; first < tokens.size() && status == BITNET_OK; first += n_batch) {
            bitnet_batch_clear(batch);
            size_t last = std::min(tokens.size(), first + n_batch);
            for (size_t i = first; i < last; ++i) bitnet_batch_add(batch, tokens[i], pos++, &seq, 1, i + 1 == tokens.size());
            status = bitnet_decode(context, batch);
        }
        prompt_seconds = seconds_since(start);
    }
    if (status == BITNET_OK) {
        auto start = Clock::now();
        for (; generated < n_predict; ++generated) {
            bitnet_token next = argmax(bitnet_get_logits(context, -1), n_vocab);
            print_token(model, detokenizer, next);
            if (!ignore_eos && bitnet_vocab_n_tokens(model) > 0 && bitnet_token_is_eog(model, next)) {
                ++generated;
                break;
            }
            if (generated + 1 == n_predict) {
                ++generated;
                break;
            }
            bitnet_batch_clear(batch);
            bitnet_batch_add(batch, next, pos++, &seq, 1, true);
            status = bitnet_decode(context, batch);
            if (status != BITNET_OK) break;
        }
        generate_seconds = seconds_since(start);
        if (detokenizer) {
            char rest[64];
            int32_t n = bitnet_detokenizer_flush(detokenizer, rest, sizeof rest);
            if (n > 0) std::fwrite(rest, 1, static_cast<size_t>(n), stdout);
        }
        std::printf("\n");
    }
    if (status != BITNET_OK) {
        exit_code = bitnet_cli::report_failure("run", status);
    } else {
        std::fprintf(stderr, "\nprompt: %zu tokens in %.3f s (%.2f tok/s); generation: %ld tokens in %.3f s (%.2f tok/s) [%s]\n",
                     tokens.size(), prompt_seconds, tokens.size() / prompt_seconds, generated, generate_seconds,
                     generated > 1 ? (generated - 1) / generate_seconds : 0.0, bitnet_context_backend_name(context));
    }
    bitnet_detokenizer_free(detokenizer);
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return exit_code;
}

bitnet_cli::CommandRegistration registration("run", "generate text from a prompt (greedy)", run_generate);

}  // namespace
