// Time of one bitnet_sampler_sample_logits() call over a 128256-token vocabulary (Llama 3 /
// BitNet 2B-4T) for a few typical chains. Usage: sampler-bench [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "bitnet.h"

namespace {

constexpr int32_t kVocab = 128256;

struct Member {
    bitnet_status status;
    bitnet_sampler *sampler;
};

Member greedy() { Member m{}; m.status = bitnet_sampler_init_greedy(&m.sampler); return m; }
Member dist() { Member m{}; m.status = bitnet_sampler_init_dist(1234, &m.sampler); return m; }
Member temperature(float t) { Member m{}; m.status = bitnet_sampler_init_temperature(t, &m.sampler); return m; }
Member top_k(int32_t k) { Member m{}; m.status = bitnet_sampler_init_top_k(k, &m.sampler); return m; }
Member top_p(float p) { Member m{}; m.status = bitnet_sampler_init_top_p(p, 1, &m.sampler); return m; }
Member min_p(float p) { Member m{}; m.status = bitnet_sampler_init_min_p(p, 1, &m.sampler); return m; }
Member penalties() { Member m{}; m.status = bitnet_sampler_init_penalties(64, 1.1f, 0.0f, 0.0f, &m.sampler); return m; }

bitnet_sampler *chain_of(std::initializer_list<Member> members) {
    bitnet_sampler *chain = nullptr;
    if (bitnet_sampler_chain_new(nullptr, &chain) != BITNET_OK) std::exit(1);
    for (const Member &m : members) {
        if (m.status != BITNET_OK || bitnet_sampler_chain_add(chain, m.sampler) != BITNET_OK) {
            std::fprintf(stderr, "sampler-bench: %s\n", bitnet_last_error());
            std::exit(1);
        }
    }
    return chain;
}

// CPU time of this thread: on a shared machine it leaves out the time other processes take.
double thread_cpu_us() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec * 1e6 + now.tv_nsec * 1e-3;
}

void run(const char *label, bitnet_sampler *chain, const std::vector<std::vector<float>> &rows, int iterations) {
    for (int i = 0; i < 16; ++i) bitnet_sampler_sample_logits(chain, rows[i % rows.size()].data(), kVocab);
    std::vector<double> wall, cpu;
    for (int i = 0; i < iterations; ++i) {
        auto start = std::chrono::steady_clock::now();
        double cpu_start = thread_cpu_us();
        bitnet_token token = bitnet_sampler_sample_logits(chain, rows[i % rows.size()].data(), kVocab);
        cpu.push_back(thread_cpu_us() - cpu_start);
        wall.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
        if (token < 0) {
            std::fprintf(stderr, "sampler-bench: %s\n", bitnet_last_error());
            std::exit(1);
        }
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("%-58s wall median %8.1f us  p90 %8.1f us | thread cpu median %8.1f us\n", label, wall[wall.size() / 2],
                wall[wall.size() * 9 / 10], cpu[cpu.size() / 2]);
    bitnet_sampler_free(chain);
}

}  // namespace

int main(int argc, char **argv) {
    const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 500;
    // Logits shaped like a language model's: a broad normal body with a few strong candidates.
    std::mt19937 rng(42);
    std::normal_distribution<float> body(0.0f, 2.5f);
    std::uniform_int_distribution<int32_t> token(0, kVocab - 1);
    std::vector<std::vector<float>> rows(8, std::vector<float>(kVocab));
    for (auto &row : rows) {
        for (float &l : row) l = body(rng);
        for (int i = 0; i < 20; ++i) row[token(rng)] += 12.0f;
    }
    std::printf("sampler-bench: n_vocab %d, %d samples per chain\n", kVocab, iterations);
    run("penalties, top-k 40, top-p 0.95, min-p 0.05, temp 0.8, dist",
        chain_of({penalties(), top_k(40), top_p(0.95f), min_p(0.05f), temperature(0.8f), dist()}), rows, iterations);
    run("greedy", chain_of({greedy()}), rows, iterations);
    run("top-k 40, dist", chain_of({top_k(40), dist()}), rows, iterations);
    run("temp 0.8, dist (whole vocabulary)", chain_of({temperature(0.8f), dist()}), rows, iterations);
    run("top-p 0.95, temp 0.8, dist (no top-k)", chain_of({top_p(0.95f), temperature(0.8f), dist()}), rows, iterations);
    run("min-p 0.05, temp 0.8, dist (no top-k)", chain_of({min_p(0.05f), temperature(0.8f), dist()}), rows, iterations);
    return 0;
}
