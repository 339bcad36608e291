// bitnet perplexity: the perplexity of a model on a text, and the KL divergence of its next-token
// distributions from a saved base run, with llama.cpp's llama-perplexity method so that the
// numbers compare one to one (the method: perplexity_chunks.h; the statistics: perplexity_math.h;
// the base file: perplexity_kld_file.h).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bitnet.h"
#include "command.h"
#include "json_writer.h"
#include "model_options.h"
#include "perplexity_chunks.h"
#include "perplexity_kld_file.h"
#include "perplexity_math.h"

namespace {

const char *const kUsage =
    "usage: bitnet perplexity -m MODEL -f TEXT [options]\n"
    "  -f, --file TEXT            the text to score (UTF-8)\n"
    "  -c, --ctx-size N           tokens per chunk (default 512, at most the model's context)\n"
    "  --chunks K                 score only the first K chunks (default: all)\n"
    "  -b, --batch-size N         tokens per decode call (default n_ctx x parallel; with\n"
    "                             --parallel, a multiple of n_ctx)\n"
    "  --parallel N               evaluate N chunks at once as separate sequences (default 1)\n"
    "  --kl-divergence-base FILE  save every scored token's logits for later comparison\n"
    "  --kl-divergence FILE       compare this model/settings with a saved base (same text)\n"
    "  --json                     print one JSON object on stdout instead of the text report\n";

struct PerplexityOptions {
    bitnet_cli::ModelOptions model;
    std::string text_path, base_out, base_in;
    int32_t max_chunks = 0;  // 0: all
    int32_t n_batch = 0;     // 0: n_ctx * parallel
    int32_t parallel = 1;
    bool json = false;
};

bool parse_count(const char *text, long max_value, int32_t *out) {
    char *end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (!*text || *end || value < 1 || value > max_value) return false;
    *out = static_cast<int32_t>(value);
    return true;
}

// Returns 0 when parsed, else the exit status (2) after printing what was wrong.
int parse_options(int argc, char **argv, PerplexityOptions *o) {
    for (int i = 1; i < argc; ++i) {
        std::string error;
        if (bitnet_cli::parse_model_option(argc, argv, &i, &o->model, &error)) {
            if (error.empty()) continue;
            std::fprintf(stderr, "bitnet perplexity: %s\n", error.c_str());
            return 2;
        }
        const std::string arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : nullptr;
        bool ok = true;
        if (arg == "--json") {
            o->json = true;
            continue;
        }
        static const char *const kValueOptions[] = {"-f", "--file", "--kl-divergence-base", "--kl-divergence",
                                                    "--chunks", "-b", "--batch-size", "--parallel"};
        bool known = false;
        for (const char *name : kValueOptions) known = known || arg == name;
        if (!known) {
            std::fprintf(stderr, "bitnet perplexity: unknown option '%s'\n%s%s", arg.c_str(), kUsage,
                         bitnet_cli::kModelOptionsHelp);
            return 2;
        }
        if (!value) {
            std::fprintf(stderr, "bitnet perplexity: %s needs a value\n", arg.c_str());
            return 2;
        }
        if (arg == "-f" || arg == "--file") o->text_path = value;
        else if (arg == "--kl-divergence-base") o->base_out = value;
        else if (arg == "--kl-divergence") o->base_in = value;
        else if (arg == "--chunks") ok = parse_count(value, INT32_MAX, &o->max_chunks);
        else if (arg == "-b" || arg == "--batch-size") ok = parse_count(value, 1 << 20, &o->n_batch);
        else ok = parse_count(value, 64, &o->parallel);  // --parallel
        if (!ok) {
            std::fprintf(stderr, "bitnet perplexity: %s needs a positive integer%s, not '%s'\n", arg.c_str(),
                         arg == "--parallel" ? " up to 64" : "", value);
            return 2;
        }
        ++i;
    }
    if (o->text_path.empty() || o->model.model_path.empty()) {
        std::fprintf(stderr, "%s%s", kUsage, bitnet_cli::kModelOptionsHelp);
        return 2;
    }
    if (!o->base_out.empty() && !o->base_in.empty()) {
        std::fprintf(stderr, "bitnet perplexity: --kl-divergence-base and --kl-divergence exclude each other\n");
        return 2;
    }
    return 0;
}

bool read_text(const std::string &path, std::string *text, std::string *error) {
    std::FILE *file = std::fopen(path.c_str(), "rb");
    if (!file) {
        *error = "cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    char buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text->append(buffer, n);
    const bool failed = std::ferror(file);
    std::fclose(file);
    if (failed) *error = "reading '" + path + "' failed";
    else if (text->empty()) *error = "the text file '" + path + "' is empty";
    else if (text->size() > INT32_MAX) *error = "the text file '" + path + "' is larger than 2 GiB";
    return error->empty();
}

bool tokenize(const bitnet_model *model, const std::string &text, std::vector<bitnet_token> *tokens) {
    // add_special: BOS as the model's metadata asks, as llama-perplexity tokenizes (add_bos).
    const int32_t length = static_cast<int32_t>(text.size());
    int32_t n = bitnet_tokenize(model, text.data(), length, nullptr, 0, true, false);
    if (n == BITNET_COUNT_ERROR) return false;
    tokens->resize(static_cast<size_t>(n < 0 ? -n : n));
    n = bitnet_tokenize(model, text.data(), length, tokens->data(), static_cast<int32_t>(tokens->size()), true, false);
    if (n < 0) return false;
    tokens->resize(static_cast<size_t>(n));
    return true;
}

// The progress line on stderr, at most once a second and at the end.
class Progress {
public:
    explicit Progress(int64_t total) : total_(total), start_(Clock::now()), last_(start_) {}
    void update(int64_t done) {
        const auto now = Clock::now();
        if (done < total_ && now - last_ < std::chrono::seconds(1)) return;
        last_ = now;
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
        const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
        std::fprintf(stderr, "perplexity: %lld/%lld tokens, %.1f tokens/s, ETA %.0f s\n", static_cast<long long>(done),
                     static_cast<long long>(total_), rate, eta);
    }

private:
    using Clock = std::chrono::steady_clock;
    int64_t total_;
    Clock::time_point start_, last_;
};

void print_divergence(const bitnet_cli::DivergenceSummary &s) {
    std::printf("\n====== Perplexity statistics ======\n");
    std::printf("Mean PPL(Q)                   : %10.6f\n", s.ppl_current);
    std::printf("Mean PPL(base)                : %10.6f\n", s.ppl_base);
    std::printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", s.ln_ppl_ratio.mean, s.ln_ppl_ratio.error);
    std::printf("\n====== KL divergence statistics ======\n");
    std::printf("Mean    KLD: %10.6f +/- %10.6f\n", s.kld.mean, s.kld.error);
    std::printf("Maximum KLD: %10.6f\n", s.kld_max);
    std::printf("99.9%%   KLD: %10.6f\n", s.kld_p999);
    std::printf("99.0%%   KLD: %10.6f\n", s.kld_p99);
    std::printf("95.0%%   KLD: %10.6f\n", s.kld_p95);
    std::printf("90.0%%   KLD: %10.6f\n", s.kld_p90);
    std::printf("Median  KLD: %10.6f\n", s.kld_median);
    std::printf("10.0%%   KLD: %10.6f\n", s.kld_p10);
    std::printf(" 5.0%%   KLD: %10.6f\n", s.kld_p5);
    std::printf(" 1.0%%   KLD: %10.6f\n", s.kld_p1);
    std::printf(" 0.1%%   KLD: %10.6f\n", s.kld_p01);
    std::printf("Minimum KLD: %10.6f\n", s.kld_min);
    std::printf("\n====== Token probability statistics ======\n");
    std::printf("Mean    Δp: %6.3f +/- %5.3f %%\n", 100.0 * s.dp_token.mean, 100.0 * s.dp_token.error);
    std::printf("RMS     Δp: %6.3f %%\n", 100.0 * s.dp_rms);
    std::printf("Mean Δp of base top token: %6.3f +/- %5.3f %%\n", 100.0 * s.dp_base_top.mean, 100.0 * s.dp_base_top.error);
    std::printf("Same top p: %6.3f +/- %5.3f %%\n", 100.0 * s.same_top.mean, 100.0 * s.same_top.error);
}

std::string json_divergence(const bitnet_cli::DivergenceSummary &s) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"tokens\": %zu, \"mean\": %.9g, \"mean_error\": %.9g, \"median\": %.9g, \"p99\": %.9g, "
                  "\"p99_9\": %.9g, \"max\": %.9g, \"min\": %.9g, \"same_top\": %.9g, \"same_top_error\": %.9g, "
                  "\"mean_dp\": %.9g, \"mean_dp_error\": %.9g, \"rms_dp\": %.9g, \"mean_dp_base_top\": %.9g, "
                  "\"ppl_base\": %.9g, \"ppl_current\": %.9g}",
                  s.count, s.kld.mean, s.kld.error, s.kld_median, s.kld_p99, s.kld_p999, s.kld_max, s.kld_min,
                  s.same_top.mean, s.same_top.error, s.dp_token.mean, s.dp_token.error, s.dp_rms, s.dp_base_top.mean,
                  s.ppl_base, s.ppl_current);
    return buf;
}

// Everything after option parsing; resources are freed by the caller.
struct Run {
    bitnet_model *model = nullptr;
    bitnet_context *context = nullptr;
    ~Run() {
        bitnet_context_free(context);
        bitnet_model_free(model);
    }
};

int fail(const std::string &message) {
    std::fprintf(stderr, "bitnet perplexity: %s\n", message.c_str());
    return 1;
}

int run_perplexity(int argc, char **argv) {
    PerplexityOptions o;
    if (int status = parse_options(argc, argv, &o)) return status;

    std::string text, error;
    if (!read_text(o.text_path, &text, &error)) return fail(error);
    Run run;
    run.model = bitnet_cli::load_model_or_report(o.model, "perplexity");
    if (!run.model) return 1;
    std::vector<bitnet_token> tokens;
    if (!tokenize(run.model, text, &tokens)) return bitnet_cli::report_failure("perplexity: tokenize", bitnet_last_status());
    const int32_t n_vocab = bitnet_model_n_vocab(run.model);

    // A base file, when comparing, fixes n_ctx and the chunk count unless they are given.
    bitnet_cli::KldReader base;
    if (!o.base_in.empty()) {
        if (!base.open(o.base_in)) return fail(base.error());
        if (o.model.n_ctx == 0) o.model.n_ctx = base.header().n_ctx;
        if (o.max_chunks == 0) o.max_chunks = static_cast<int32_t>(base.header().n_chunks);
    }
    int32_t n_ctx = static_cast<int32_t>(o.model.n_ctx);
    if (n_ctx == 0) {
        const int32_t trained = bitnet_model_n_ctx_train(run.model);
        n_ctx = trained > 0 && trained < 512 ? trained : 512;  // llama-perplexity's usual 512
    }
    const int32_t n_ctx_train = bitnet_model_n_ctx_train(run.model);
    if (n_ctx_train > 0 && n_ctx > n_ctx_train) {
        std::fprintf(stderr, "perplexity: warning: the model was trained on %d tokens of context, chunks have %d\n",
                     n_ctx_train, n_ctx);
    }
    const bitnet_token bos = bitnet_vocab_bos(run.model);
    bitnet_cli::ChunkPlan plan;
    error = bitnet_cli::plan_chunks(static_cast<int64_t>(tokens.size()), n_ctx, o.max_chunks,
                                    !tokens.empty() && tokens[0] == bos ? bos : BITNET_TOKEN_NULL, &plan);
    if (!error.empty()) return fail(error + " ('" + o.text_path + "')");

    bitnet_cli::KldHeader header;
    header.fingerprint = bitnet_cli::model_fingerprint(run.model);
    header.n_vocab = static_cast<uint32_t>(n_vocab);
    header.n_ctx = static_cast<uint32_t>(plan.n_ctx);
    header.n_chunks = static_cast<uint32_t>(plan.n_chunks);
    header.first = static_cast<uint32_t>(plan.first);
    header.n_scored = static_cast<uint64_t>(plan.scored_total());
    header.tokens_hash = bitnet_cli::tokens_hash(tokens.data(), static_cast<size_t>(plan.n_chunks) * plan.n_ctx);
    header.n_text_tokens = tokens.size();
    if (!o.base_in.empty()) {
        const bitnet_cli::KldHeader &b = base.header();
        if (b.fingerprint != header.fingerprint || b.n_vocab != header.n_vocab) {
            return fail("'" + o.base_in + "' was made with another model (vocabulary of " + std::to_string(b.n_vocab) +
                        " tokens, fingerprint " + std::to_string(b.fingerprint) + "; this model: " +
                        std::to_string(header.n_vocab) + " tokens, fingerprint " + std::to_string(header.fingerprint) + ")");
        }
        if (b.n_ctx != header.n_ctx || b.n_chunks != header.n_chunks) {
            return fail("'" + o.base_in + "' scored " + std::to_string(b.n_chunks) + " chunks of " + std::to_string(b.n_ctx) +
                        " tokens; this run would score " + std::to_string(header.n_chunks) + " of " +
                        std::to_string(header.n_ctx) + " (use the base run's -c and --chunks)");
        }
        if (b.tokens_hash != header.tokens_hash) {
            return fail("'" + o.base_in + "' was made from another text: the tokens of '" + o.text_path + "' differ");
        }
    }
    bitnet_cli::KldWriter writer;
    if (!o.base_out.empty() && !writer.open(o.base_out, header)) return fail(writer.error());

    const int32_t parallel = std::min(o.parallel, plan.n_chunks);
    const int32_t n_batch = o.n_batch > 0 ? o.n_batch : plan.n_ctx * parallel;
    // Several sequences per decode only in whole chunks, as llama-perplexity requires (n_batch < n_ctx
    // or a multiple of it): a decode that mixes the end of one chunk with the start of another
    // computes some rows in a different order, and with an F16 KV cache a last-bit difference can
    // round K or V to another half value, so the printed PPL could move in its last digit.
    if (parallel > 1 && n_batch % plan.n_ctx != 0) {
        std::fprintf(stderr, "bitnet perplexity: with --parallel %d, -b must be a multiple of n_ctx %d (got %d)\n",
                     parallel, plan.n_ctx, n_batch);
        return 2;
    }
    bitnet_context_params params = bitnet_cli::context_params(o.model);
    params.n_ctx = static_cast<uint32_t>(plan.n_ctx) * static_cast<uint32_t>(parallel);
    params.n_batch = static_cast<uint32_t>(n_batch);
    params.n_seq_max = static_cast<uint32_t>(parallel);
    params.n_outputs_max = static_cast<uint32_t>(bitnet_cli::max_scored_per_batch(plan, parallel, n_batch));
    bitnet_status status = bitnet_context_new(run.model, &params, &run.context);
    if (status != BITNET_OK) return bitnet_cli::report_failure("perplexity: context", status);
    std::fprintf(stderr, "perplexity: %zu tokens, %d chunks of %d (scoring %d per chunk), %d in parallel, batch %d, %s\n",
                 tokens.size(), plan.n_chunks, plan.n_ctx, plan.scored_per_chunk(), parallel, n_batch,
                 bitnet_context_backend_name(run.context));

    bitnet_cli::PerplexityStats stats;
    std::vector<double> chunk_ppl;
    std::vector<bitnet_cli::TokenDivergence> divergences;
    std::vector<float> base_row;
    Progress progress(static_cast<int64_t>(plan.n_chunks) * plan.n_ctx);
    bitnet_cli::ChunkCallbacks callbacks;
    callbacks.on_token = [&](int32_t, int32_t, const float *logits, bitnet_token next) {
        const bitnet_cli::LogitRow row = bitnet_cli::summarize_logits(logits, n_vocab);
        stats.add(row.log_sum_exp - logits[next]);
        if (!o.base_out.empty() && !writer.write_row(logits)) return false;
        if (!o.base_in.empty()) {
            if (!base.read_row(&base_row)) return false;
            divergences.push_back(bitnet_cli::compare_rows(base_row.data(), logits, n_vocab, next));
        }
        return true;
    };
    callbacks.on_chunk_done = [&](int32_t chunk) {
        chunk_ppl.push_back(stats.ppl());
        if (!o.json) {
            std::printf("[%d]%.4f,", chunk + 1, stats.ppl());
            std::fflush(stdout);
        }
    };
    callbacks.on_progress = [&](int64_t done) { progress.update(done); };
    status = bitnet_cli::evaluate_chunks(run.context, tokens, plan, parallel, n_batch, callbacks);
    if (status == BITNET_ERR_CANCELLED) return fail(!o.base_out.empty() ? writer.error() : base.error());
    if (status != BITNET_OK) return bitnet_cli::report_failure("perplexity: decode", status);
    if (!o.base_out.empty() && !writer.finish()) return fail(writer.error());

    const double ppl = stats.ppl(), uncertainty = stats.uncertainty();
    bitnet_cli::DivergenceSummary summary;
    if (!o.base_in.empty()) summary = bitnet_cli::summarize_divergence(divergences);
    if (o.json) {
        std::string chunks;
        for (size_t i = 0; i < chunk_ppl.size(); ++i) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%s%.9g", i ? ", " : "", chunk_ppl[i]);
            chunks += buf;
        }
        std::printf("{\"model\": %s, \"text\": %s, \"n_ctx\": %d, \"chunks\": %d, \"text_tokens\": %zu, "
                    "\"scored_tokens\": %zu, \"ppl\": %.9g, \"ppl_error\": %.9g, \"chunk_ppl\": [%s]",
                    bitnet_cli::json_string(o.model.model_path).c_str(), bitnet_cli::json_string(o.text_path).c_str(),
                    plan.n_ctx, plan.n_chunks, tokens.size(), stats.count(), ppl, uncertainty, chunks.c_str());
        if (!o.base_in.empty()) std::printf(", \"kl_divergence\": %s", json_divergence(summary).c_str());
        std::printf("}\n");
    } else {
        std::printf("\n");
        if (uncertainty >= 0) std::printf("Final estimate: PPL = %.4f +/- %.5f\n", ppl, uncertainty);
        else std::printf("Final estimate: PPL = %.4f (uncertainty undefined: the log-probabilities do not vary)\n", ppl);
        if (!o.base_in.empty()) print_divergence(summary);
    }
    if (!o.base_out.empty()) {
        std::fprintf(stderr, "perplexity: wrote the logits of %llu scored tokens to %s\n",
                     static_cast<unsigned long long>(header.n_scored), o.base_out.c_str());
    }
    return 0;
}

bitnet_cli::CommandRegistration registration("perplexity", "perplexity of a text and KL divergence from a base run",
                                             run_perplexity);

}  // namespace
