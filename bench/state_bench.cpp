// Saved-state size and speed: decode a prompt of random token ids, then save the context state to
// a buffer and to a file R times and load each back R times, for an f16 and an f32 KV cache.
// Reports the uncompressed KV bytes and payload, the state's bytes, the compression ratio and the
// median save and load speeds (MB/s of the uncompressed payload, by wall clock and by this
// thread's CPU time, which leaves out what other processes take on a shared machine).
//
//   state-bench -m MODEL [-n N_PROMPT (512)] [-r REPEATS (5)] [-t THREADS] [--kv f16|f32|both]
//               [--dir DIR (TMPDIR or /tmp)] [--seed N]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "bitnet.h"

namespace {

struct Options {
    std::string model_path;
    int32_t n_prompt = 512;
    int repeats = 5;
    int32_t n_threads = 0;
    std::vector<bitnet_kv_type> kv_types = {BITNET_KV_F16, BITNET_KV_F32};
    std::string dir;
    uint32_t seed = 1;
};

[[noreturn]] void die(const char *what) {
    std::fprintf(stderr, "state-bench: %s: %s\n", what, bitnet_last_error());
    std::exit(1);
}

void check(bitnet_status status, const char *what) {
    if (status != BITNET_OK) die(what);
}

int usage() {
    std::fprintf(stderr,
                 "usage: state-bench -m MODEL [-n N_PROMPT] [-r REPEATS] [-t THREADS] [--kv f16|f32|both] [--dir DIR] "
                 "[--seed N]\n"
                 "  -n N         prompt tokens (random valid ids) decoded before saving (default 512)\n"
                 "  -r R         saves and loads of each kind; the median is reported (default 5)\n"
                 "  --dir DIR    folder for the state file (default $TMPDIR or /tmp)\n");
    return 2;
}

double thread_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Timing {
    std::vector<double> wall, cpu;  // seconds
    static double median(std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const size_t n = v.size();
        return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
};

template <class Body>
Timing time_repeats(int repeats, Body &&body) {
    Timing t;
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        const double cpu_start = thread_cpu_seconds();
        body();
        t.cpu.push_back(thread_cpu_seconds() - cpu_start);
        t.wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return t;
}

struct Result {
    bitnet_kv_type kv;
    int32_t n_tokens = 0;
    uint64_t kv_bytes = 0, payload_bytes = 0, state_bytes = 0, file_bytes = 0;
    Timing save_buffer, save_file, load_buffer, load_file;
};

bitnet_context *new_context(const bitnet_model *model, const Options &options, bitnet_kv_type kv) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = static_cast<uint32_t>(options.n_prompt);
    params.n_batch = static_cast<uint32_t>(std::min(options.n_prompt, 512));
    params.n_threads = options.n_threads;
    params.kv_type = kv;
    params.backend = BITNET_BACKEND_CPU;
    bitnet_context *context = nullptr;
    check(bitnet_context_new(model, &params, &context), "bitnet_context_new");
    return context;
}

Result run(const bitnet_model *model, const Options &options, bitnet_kv_type kv, const std::vector<bitnet_token> &prompt) {
    Result result;
    result.kv = kv;
    result.n_tokens = static_cast<int32_t>(prompt.size());
    bitnet_context *source = new_context(model, options, kv);
    bitnet_batch *batch = nullptr;
    const int32_t n_batch = static_cast<int32_t>(bitnet_context_n_batch(source));
    check(bitnet_batch_new(n_batch, &batch), "bitnet_batch_new");
    const int32_t seq = 0;
    for (int32_t first = 0; first < result.n_tokens; first += n_batch) {
        bitnet_batch_clear(batch);
        const int32_t last = std::min(result.n_tokens, first + n_batch);
        for (int32_t i = first; i < last; ++i) {
            check(bitnet_batch_add(batch, prompt[i], i, &seq, 1, i + 1 == result.n_tokens), "bitnet_batch_add");
        }
        check(bitnet_decode(source, batch), "bitnet_decode");
    }
    bitnet_batch_free(batch);

    const int32_t n_layer = bitnet_model_n_layer(model);
    const int32_t n_embd_kv = bitnet_model_n_embd(model) / bitnet_model_n_head(model) * bitnet_model_n_head_kv(model);
    result.kv_bytes = static_cast<uint64_t>(result.n_tokens) * n_layer * 2 * n_embd_kv * (kv == BITNET_KV_F16 ? 2 : 4);

    std::vector<uint8_t> buffer(bitnet_state_size(source));
    size_t written = 0;
    result.save_buffer = time_repeats(options.repeats, [&] {
        check(bitnet_state_save(source, buffer.data(), buffer.size(), &written), "bitnet_state_save");
    });
    result.state_bytes = written;
    std::memcpy(&result.payload_bytes, buffer.data() + 24, 8);  // header: u64 payload bytes at 24

    const std::string path = options.dir + "/state-bench-" + std::to_string(getpid()) + ".state";
    result.save_file = time_repeats(options.repeats, [&] {
        check(bitnet_state_save_file(source, path.c_str()), "bitnet_state_save_file");
    });
    if (FILE *file = std::fopen(path.c_str(), "rb")) {
        std::fseek(file, 0, SEEK_END);
        result.file_bytes = static_cast<uint64_t>(std::ftell(file));
        std::fclose(file);
    }

    bitnet_context *target = new_context(model, options, kv);
    const int32_t n_vocab = bitnet_model_n_vocab(model);
    const float *expected = bitnet_get_logits(source, -1);
    auto same_logits = [&](const char *what) {
        const float *actual = bitnet_get_logits(target, -1);
        if (!expected || !actual || std::memcmp(expected, actual, static_cast<size_t>(n_vocab) * sizeof(float)) != 0) {
            std::fprintf(stderr, "state-bench: %s: the loaded state does not reproduce the saved logits\n", what);
            std::exit(1);
        }
    };
    result.load_buffer = time_repeats(options.repeats, [&] {
        check(bitnet_state_load(target, buffer.data(), written), "bitnet_state_load");
    });
    same_logits("bitnet_state_load");
    result.load_file = time_repeats(options.repeats, [&] {
        check(bitnet_state_load_file(target, path.c_str()), "bitnet_state_load_file");
    });
    same_logits("bitnet_state_load_file");
    std::remove(path.c_str());
    bitnet_context_free(target);
    bitnet_context_free(source);
    return result;
}

}  // namespace

int main(int argc, char **argv) {
    Options options;
    const char *tmp = std::getenv("TMPDIR");
    options.dir = tmp && *tmp ? tmp : "/tmp";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) return usage();
        const char *value = argv[++i];
        if (arg == "-m" || arg == "--model") options.model_path = value;
        else if (arg == "-n") options.n_prompt = std::atoi(value);
        else if (arg == "-r") options.repeats = std::atoi(value);
        else if (arg == "-t") options.n_threads = std::atoi(value);
        else if (arg == "--dir") options.dir = value;
        else if (arg == "--seed") options.seed = static_cast<uint32_t>(std::strtoul(value, nullptr, 10));
        else if (arg == "--kv") {
            const std::string kv = value;
            if (kv == "f16") options.kv_types = {BITNET_KV_F16};
            else if (kv == "f32") options.kv_types = {BITNET_KV_F32};
            else if (kv == "both") options.kv_types = {BITNET_KV_F16, BITNET_KV_F32};
            else return usage();
        } else {
            return usage();
        }
    }
    if (options.model_path.empty() || options.n_prompt < 1 || options.repeats < 1) return usage();

    bitnet_set_log_callback(bitnet_log_to_stderr, BITNET_LOG_WARN, nullptr);
    bitnet_model *model = nullptr;
    check(bitnet_model_load_file(options.model_path.c_str(), nullptr, &model), "bitnet_model_load_file");
    std::mt19937 random(options.seed);
    std::uniform_int_distribution<int32_t> pick(0, bitnet_model_n_vocab(model) - 1);
    std::vector<bitnet_token> prompt(static_cast<size_t>(options.n_prompt));
    for (bitnet_token &token : prompt) token = pick(random);

    std::vector<Result> results;
    for (bitnet_kv_type kv : options.kv_types) results.push_back(run(model, options, kv, prompt));

    std::printf("state-bench: %s (%d layers), %d random prompt tokens, %d repeats, medians\n",
                options.model_path.c_str(), bitnet_model_n_layer(model), options.n_prompt, options.repeats);
    std::printf("| kv  | tokens | KV bytes    | payload bytes | file bytes  | ratio |\n");
    std::printf("|-----|--------|-------------|---------------|-------------|-------|\n");
    for (const Result &r : results) {
        std::printf("| %-3s | %6d | %11llu | %13llu | %11llu | %5.3f |\n", r.kv == BITNET_KV_F16 ? "f16" : "f32", r.n_tokens,
                    static_cast<unsigned long long>(r.kv_bytes), static_cast<unsigned long long>(r.payload_bytes),
                    static_cast<unsigned long long>(r.file_bytes),
                    r.file_bytes ? static_cast<double>(r.payload_bytes) / static_cast<double>(r.file_bytes) : 0.0);
    }
    std::printf("\nspeed in MB/s of the uncompressed payload (10^6 bytes/s): by wall clock / by thread CPU time\n");
    std::printf("| kv  | save buffer       | save file         | load buffer       | load file         |\n");
    std::printf("|-----|-------------------|-------------------|-------------------|-------------------|\n");
    for (const Result &r : results) {
        auto cell = [&](const Timing &t) {
            const double wall = Timing::median(t.wall), cpu = Timing::median(t.cpu);
            const double mb = static_cast<double>(r.payload_bytes) * 1e-6;
            char text[32];
            std::snprintf(text, sizeof text, "%7.0f / %7.0f", wall > 0 ? mb / wall : 0.0, cpu > 0 ? mb / cpu : 0.0);
            return std::string(text);
        };
        std::printf("| %-3s | %s | %s | %s | %s |\n", r.kv == BITNET_KV_F16 ? "f16" : "f32", cell(r.save_buffer).c_str(),
                    cell(r.save_file).c_str(), cell(r.load_buffer).c_str(), cell(r.load_file).c_str());
    }
    std::printf("\nmedian ms: ");
    for (const Result &r : results) {
        std::printf("%s save %.2f / file %.2f, load %.2f / file %.2f;  ", r.kv == BITNET_KV_F16 ? "f16" : "f32",
                    1e3 * Timing::median(r.save_buffer.wall), 1e3 * Timing::median(r.save_file.wall),
                    1e3 * Timing::median(r.load_buffer.wall), 1e3 * Timing::median(r.load_file.wall));
    }
    std::printf("\n");
    bitnet_model_free(model);
    return 0;
}
