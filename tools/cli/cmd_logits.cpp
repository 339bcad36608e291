// bitnet logits: evaluate a token sequence as one batch and write every position's logits as
// float32 little-endian [n_tokens x n_vocab], the dump other engines' users compare with.
#include <cstdio>
#include <string>
#include <vector>

#include "bitnet.h"
#include "command.h"
#include "model_options.h"

namespace {

const char *const kUsage =
    "usage: bitnet logits -m MODEL --tokens \"IDS\" -o OUT.f32 [options]\n"
    "  --tokens \"IDS\"        token ids separated by spaces or commas (one sequence, from position 0)\n"
    "  -o, --output FILE     where to write n_tokens x n_vocab float32 values\n";

int run_logits(int argc, char **argv) {
    bitnet_cli::ModelOptions options;
    std::string token_text, output;
    for (int i = 1; i < argc; ++i) {
        std::string error;
        if (bitnet_cli::parse_model_option(argc, argv, &i, &options, &error)) {
            if (!error.empty()) {
                std::fprintf(stderr, "bitnet logits: %s\n", error.c_str());
                return 2;
            }
            continue;
        }
        std::string arg = argv[i];
        if (arg == "--tokens" && i + 1 < argc) {
            token_text = argv[++i];
        } else if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
            output = argv[++i];
        } else {
            std::fprintf(stderr, "bitnet logits: unknown option '%s'\n%s%s", arg.c_str(), kUsage,
                         bitnet_cli::kModelOptionsHelp);
            return 2;
        }
    }
    std::vector<bitnet_token> tokens;
    if (output.empty() || !bitnet_cli::parse_token_list(token_text, &tokens) || tokens.empty()) {
        std::fprintf(stderr, "%s%s", kUsage, bitnet_cli::kModelOptionsHelp);
        return 2;
    }
    bitnet_model *model = bitnet_cli::load_model_or_report(options, "logits");
    if (!model) return 1;

    const uint32_t n = static_cast<uint32_t>(tokens.size());
    bitnet_context_params params = bitnet_cli::context_params(options);
    params.n_ctx = options.n_ctx > n ? options.n_ctx : n;
    params.n_batch = n;
    params.n_outputs_max = n;
    bitnet_context *context = nullptr;
    bitnet_batch *batch = nullptr;
    bitnet_status status = bitnet_context_new(model, &params, &context);
    if (status == BITNET_OK) status = bitnet_batch_new(static_cast<int32_t>(n), &batch);
    const int32_t seq = 0;
    for (uint32_t i = 0; status == BITNET_OK && i < n; ++i) {
        status = bitnet_batch_add(batch, tokens[i], static_cast<int32_t>(i), &seq, 1, true);
    }
    if (status == BITNET_OK) status = bitnet_decode(context, batch);
    int exit_code = 0;
    if (status != BITNET_OK) {
        exit_code = bitnet_cli::report_failure("logits", status);
    } else if (FILE *file = std::fopen(output.c_str(), "wb")) {
        const size_t n_vocab = static_cast<size_t>(bitnet_model_n_vocab(model));
        bool ok = true;
        for (uint32_t i = 0; i < n && ok; ++i) {
            ok = std::fwrite(bitnet_get_logits(context, static_cast<int32_t>(i)), sizeof(float), n_vocab, file) == n_vocab;
        }
        ok = (std::fclose(file) == 0) && ok;
        if (!ok) {
            std::fprintf(stderr, "bitnet logits: writing '%s' failed\n", output.c_str());
            exit_code = 1;
        } else {
            std::fprintf(stderr, "bitnet logits: wrote %u x %zu float32 logits to %s\n", n, n_vocab, output.c_str());
        }
    } else {
        std::fprintf(stderr, "bitnet logits: cannot open '%s' for writing\n", output.c_str());
        exit_code = 1;
    }
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return exit_code;
}

bitnet_cli::CommandRegistration registration("logits", "write every position's logits of a token sequence",
                                             run_logits);

}  // namespace
