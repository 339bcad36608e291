// bitnet-bench: prompt processing (pp) and text generation (tg) speed, llama-bench style.
//   bitnet-bench -m MODEL [-p 128,512] [-n 128] [-r 5] [-t 2] [--head-type T] [--backend B] [--json]
// pp N: one decode of N prompt tokens into an empty cache. tg N: N single-token decodes from an
// empty cache. Each test runs -r times after one warm-up; the table reports the median and the
// range of tokens/s. Also reported: model load time (to the first usable context) and peak RSS.
// With --backend vulkan, each tg test also reports the decode memory traffic it achieves (bytes a
// step reads, decode_bytes.h, times tokens/s) and its ratio to the device's bandwidth, measured
// with a copy on the device (lib/backend/vulkan_measure.h).
// -np N[,N...]: N parallel sequences, like llama.cpp's llama-batched-bench: each sequence gets a
// prompt of -npp tokens (one decode call per sequence), then -ntg decode calls each carry one new
// token of every sequence (all asking for logits, as a server's would). Reported: the decode
// phase's aggregate tokens/s (N * ntg / its time), per sequence (aggregate / N) and the prompt
// phase's tokens/s (bench/parallel_sequences.h).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/vulkan_measure.h"
#include "bitnet.h"
#include "decode_bytes.h"
#include "bench_common.h"
#include "parallel_sequences.h"
#include "speculative_verify.h"

using bitnet_bench::exit_on_failure;
using bitnet_bench::median;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string model;
    std::vector<int> prompts = {128, 512};
    std::vector<int> generations = {128};
    int repetitions = 5;
    int threads = 2;
    bitnet_head_type head_type = BITNET_HEAD_AS_STORED;
    bitnet_backend_type backend = BITNET_BACKEND_CPU;
    bool json = false;
    bool verbose = false;
    bool use_mmap = true;
    bool use_mlock = false;
    std::vector<int> parallel;  // -np: sequence counts
    int parallel_prompt = 128;  // -npp
    int parallel_gen = 128;     // -ntg
    std::vector<int> verify;    // -spec-verify: tokens per call (K + 1)
};

struct Result {
    std::string test;
    int n_prompt = 0, n_gen = 0;
    double median = 0, min = 0, max = 0;
    double bytes_per_token = 0;  // tg tests: decode_bytes_per_token
};

[[noreturn]] void usage(const char *message) {
    if (message) std::fprintf(stderr, "bitnet-bench: %s\n", message);
    std::fprintf(stderr,
                 "usage: bitnet-bench -m MODEL [-p 128,512] [-n 128] [-r 5] [-t 2] [--head-type f16|q8_0|q6_k|q4_0]\n"
                 "                    [--backend cpu|vulkan|auto] [--json] [--no-mmap] [--mlock] [-v]\n"
                 "                    [-np 1,2,4,8,16 [-npp 128] [-ntg 128]] [-spec-verify 1,2,3,5,9]\n"
                 "  -np: N parallel sequences, a -npp-token prompt each, then -ntg decodes of one token per\n"
                 "       sequence (aggregate and per-sequence t/s; -p 0 -n 0 skips the pp/tg tests)\n"
                 "  -spec-verify: decode calls of K+1 tokens of one sequence with logits for each (a speculative\n"
                 "       verification), 32 calls after a 128-token prompt: ms per call and the ratio to 1 token\n"
                 "  --no-mmap: read the model into memory instead of mapping it\n"
                 "  --mlock: lock the model's bytes in memory (bitnet_model_params.use_mlock)\n"
                 "  -v: log at info level (with BITNET_PROFILE=1 in the environment, the time of every op kind)\n");
    std::exit(2);
}

std::vector<int> parse_list(const char *text) {
    std::vector<int> out;
    for (const char *p = text; *p;) {
        char *end = nullptr;
        long value = std::strtol(p, &end, 10);
        if (end == p || value < 0 || value > 1 << 20) usage("bad number list");
        if (value > 0) out.push_back(static_cast<int>(value));
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') usage("bad number list");
    }
    return out;
}

Options parse(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> const char * {
            if (i + 1 >= argc) usage((arg + " needs a value").c_str());
            return argv[++i];
        };
        if (arg == "-m") o.model = value();
        else if (arg == "-p") o.prompts = parse_list(value());
        else if (arg == "-n") o.generations = parse_list(value());
        else if (arg == "-r") o.repetitions = std::max(1, std::atoi(value()));
        else if (arg == "-t") o.threads = std::max(1, std::atoi(value()));
        else if (arg == "--json") o.json = true;
        else if (arg == "-v" || arg == "--verbose") o.verbose = true;
        else if (arg == "--no-mmap") o.use_mmap = false;
        else if (arg == "--mlock") o.use_mlock = true;
        else if (arg == "-np") o.parallel = parse_list(value());
        else if (arg == "-npp") o.parallel_prompt = std::atoi(value());
        else if (arg == "-ntg") o.parallel_gen = std::atoi(value());
        else if (arg == "-spec-verify") o.verify = parse_list(value());
        else if (arg == "--head-type") {
            std::string t = value();
            if (t == "f16") o.head_type = BITNET_HEAD_F16;
            else if (t == "q8_0") o.head_type = BITNET_HEAD_Q8_0;
            else if (t == "q6_k") o.head_type = BITNET_HEAD_Q6_K;
            else if (t == "q4_0") o.head_type = BITNET_HEAD_Q4_0;
            else usage("--head-type must be f16, q8_0, q6_k or q4_0");
        } else if (arg == "--backend") {
            std::string b = value();
            if (b == "cpu") o.backend = BITNET_BACKEND_CPU;
            else if (b == "vulkan") o.backend = BITNET_BACKEND_VULKAN;
            else if (b == "auto") o.backend = BITNET_BACKEND_AUTO;
            else usage("--backend must be cpu, vulkan or auto");
        } else usage(("unknown option " + arg).c_str());
    }
    if (o.model.empty()) usage("no model (-m)");
    for (int n : o.verify) {
        if (n > 64) usage("-spec-verify: at most 64 tokens per call");
    }
    for (int n : o.parallel) {
        if (n > 64) usage("-np: at most 64 sequences (bitnet_context_params.n_seq_max)");
    }
    if (!o.parallel.empty() && (o.parallel_prompt < 1 || o.parallel_gen < 1 || o.parallel_prompt > 1 << 16 ||
                                o.parallel_gen > 1 << 16)) {
        usage("-npp and -ntg must be 1..65536");
    }
    return o;
}

// Seconds for one run of the test on a freshly cleared cache.
double run_once(bitnet_context *context, bitnet_batch *batch, const std::vector<bitnet_token> &tokens, int n_prompt,
                int n_gen) {
    exit_on_failure(nullptr, bitnet_memory_clear(context), "clear");
    const int32_t seq = 0;
    auto start = Clock::now();
    if (n_prompt > 0) {
        bitnet_batch_clear(batch);
        for (int i = 0; i < n_prompt; ++i) bitnet_batch_add(batch, tokens[i], i, &seq, 1, i == n_prompt - 1);
        exit_on_failure(nullptr, bitnet_decode(context, batch), "prompt decode");
    }
    for (int i = 0; i < n_gen; ++i) {
        bitnet_batch_clear(batch);
        bitnet_batch_add(batch, tokens[i], i, &seq, 1, true);
        exit_on_failure(nullptr, bitnet_decode(context, batch), "generation decode");
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char **argv) {
    Options options = parse(argc, argv);
    if (options.verbose) bitnet_set_log_callback(bitnet_log_to_stderr, BITNET_LOG_INFO, nullptr);

    auto load_start = Clock::now();
    bitnet_model_params model_params = bitnet_model_default_params();
    model_params.head_type = options.head_type;
    model_params.use_mmap = options.use_mmap;
    model_params.use_mlock = options.use_mlock;
    bitnet_model *model = nullptr;
    exit_on_failure(nullptr, bitnet_model_load_file(options.model.c_str(), &model_params, &model), "load");
    int max_prompt = 1;
    for (int p : options.prompts) max_prompt = std::max(max_prompt, p);
    int max_gen = 1;
    for (int n : options.generations) max_gen = std::max(max_gen, n);
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = static_cast<uint32_t>(std::max(max_prompt, max_gen));
    params.n_batch = static_cast<uint32_t>(max_prompt);
    params.n_threads = options.threads;
    params.backend = options.backend;
    bitnet_context *context = nullptr;
    exit_on_failure(nullptr, bitnet_context_new(model, &params, &context), "context");
    const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();

    bitnet_batch *batch = nullptr;
    exit_on_failure(nullptr, bitnet_batch_new(max_prompt, &batch), "batch");
    std::mt19937 random(42);
    std::uniform_int_distribution<int> pick(0, bitnet_model_n_vocab(model) - 1);
    std::vector<bitnet_token> tokens(
        static_cast<size_t>(std::max({max_prompt, max_gen, options.parallel_prompt + options.parallel_gen})));
    for (auto &t : tokens) t = pick(random);

    // Time to first token: the load above plus the first one-token decode, which pages in whatever
    // of the weights the load left on disk or unmapped.
    const double first_decode_ms = 1000.0 * run_once(context, batch, tokens, 0, 1);
    const double first_token_ms = load_ms + first_decode_ms;

    std::vector<Result> results;
    auto measure = [&](const std::string &name, int n_prompt, int n_gen) {
        run_once(context, batch, tokens, n_prompt, n_gen);  // warm-up: pages in the weights
        std::vector<double> rates;
        for (int r = 0; r < options.repetitions; ++r) {
            rates.push_back((n_prompt + n_gen) / run_once(context, batch, tokens, n_prompt, n_gen));
        }
        const double bytes = n_gen > 0 && n_prompt == 0
                                 ? bitnet_bench::decode_bytes_per_token(*model, (n_gen + 1) / 2.0,
                                                                         params.kv_type == BITNET_KV_F32 ? 4 : 2)
                                 : 0.0;
        results.push_back({name, n_prompt, n_gen, median(rates), *std::min_element(rates.begin(), rates.end()),
                           *std::max_element(rates.begin(), rates.end()), bytes});
    };
    for (int p : options.prompts) measure("pp" + std::to_string(p), p, 0);
    for (int n : options.generations) measure("tg" + std::to_string(n), 0, n);
    const std::vector<bitnet_bench::ParallelResult> parallel =
        bitnet_bench::measure_parallel(model, params, options.parallel, options.parallel_prompt, options.parallel_gen,
                                       options.repetitions, tokens);
    constexpr int kVerifyCalls = 32;
    const std::vector<bitnet_bench::VerifyResult> verify =
        bitnet_bench::measure_verify(model, params, options.verify, kVerifyCalls, options.repetitions, tokens);

    // The device's bandwidth, on the context's device: a 256 MiB copy, best of 5.
    const bool on_vulkan = std::strncmp(bitnet_context_backend_name(context), "vulkan", 6) == 0;
    std::string copy_problem;
    const double device_bandwidth =
        on_vulkan ? bitnet::vulkan_copy_bandwidth(params.device_index, uint64_t(256) << 20, 5, &copy_problem) : 0.0;
    if (on_vulkan && device_bandwidth <= 0) std::fprintf(stderr, "bitnet-bench: no copy bandwidth: %s\n", copy_problem.c_str());

    struct rusage usage_info;
    getrusage(RUSAGE_SELF, &usage_info);
    const double peak_rss_mib = usage_info.ru_maxrss / 1024.0;
    const char *head_names[] = {"as stored", "f16", "q8_0", "q6_k", "q4_0"};
    if (options.json) {
        std::printf("[\n");
        for (size_t i = 0; i < results.size(); ++i) {
            const Result &r = results[i];
            std::printf("  {\"test\": \"%s\", \"n_prompt\": %d, \"n_gen\": %d, \"tok_s_median\": %.3f, \"tok_s_min\": %.3f, "
                        "\"tok_s_max\": %.3f, \"repetitions\": %d, \"threads\": %d, \"head_type\": \"%s\", "
                        "\"backend\": \"%s\", \"mmap\": %s, \"load_ms\": %.1f, \"first_token_ms\": %.1f, \"peak_rss_mib\": %.1f, "
                        "\"decode_bytes_per_token\": %.0f, \"achieved_gb_s\": %.3f, \"device_copy_gb_s\": %.3f}%s\n",
                        r.test.c_str(), r.n_prompt, r.n_gen, r.median, r.min, r.max, options.repetitions,
                        options.threads, head_names[options.head_type], bitnet_context_backend_name(context),
                        options.use_mmap ? "true" : "false", load_ms, first_token_ms, peak_rss_mib, r.bytes_per_token,
                        r.bytes_per_token * r.median / 1e9, device_bandwidth / 1e9,
                        i + 1 < results.size() || !parallel.empty() || !verify.empty() ? "," : "");
        }
        bitnet_bench::print_parallel_json(parallel, options.repetitions, options.threads, !verify.empty());
        bitnet_bench::print_verify_json(verify, options.repetitions, options.threads, false);
        std::printf("]\n");
    } else {
        std::printf("model: %s (%s, %.2f GiB, %s%s)\nbackend: %s; head: %s; load to first context: %.1f ms; "
                    "time to first token (load + first decode): %.1f ms; peak RSS: %.1f MiB\n\n",
                    options.model.c_str(), bitnet_model_architecture(model),
                    bitnet_model_file_size(model) / 1073741824.0, options.use_mmap ? "mapped" : "read into memory",
                    options.use_mlock ? ", locked" : "", bitnet_context_backend_name(context),
                    head_names[options.head_type], load_ms, first_token_ms, peak_rss_mib);
        std::printf("| %-8s | %8s | %14s | %14s |\n", "test", "threads", "t/s (median)", "t/s (min-max)");
        std::printf("|----------|---------:|---------------:|---------------:|\n");
        for (const Result &r : results) {
            char range[64];
            std::snprintf(range, sizeof range, "%.2f-%.2f", r.min, r.max);
            std::printf("| %-8s | %8d | %14.2f | %14s |\n", r.test.c_str(), options.threads, r.median, range);
        }
        for (const Result &r : results) {
            if (r.bytes_per_token <= 0) continue;
            const double achieved = r.bytes_per_token * r.median;
            std::printf("\n%s: decode reads %.1f MB per token: %.2f GB/s achieved", r.test.c_str(), r.bytes_per_token / 1e6,
                        achieved / 1e9);
            if (device_bandwidth > 0) {
                std::printf(", %.1f%% of the device's %.2f GB/s (copy benchmark on the device)",
                            100.0 * achieved / device_bandwidth, device_bandwidth / 1e9);
            }
            std::printf("\n");
        }
        bitnet_bench::print_parallel_table(parallel, options.threads);
        bitnet_bench::print_verify_table(verify, options.threads);
    }
    bitnet_batch_free(batch);
    bitnet_context_free(context);
    bitnet_model_free(model);
    return 0;
}
