// kernel-bench: Google Benchmark timings of the CPU kernels, for every variant this CPU runs.
//
// Shapes are those of BitNet b1.58 2B-4T: decode multiplies a 6912 x 2560 weight (ffn_gate/up)
// with one token; prefill multiplies a 2560 x 6912 weight (ffn_down) with 64 tokens. Reported:
//   bytes_per_second  weight bytes read per second (decode is bound by this),
//   MACs              ternary multiply-adds per second (prefill is bound by this).
// Decode runs twice: "cold" rotates through weight copies larger than the last-level cache, as a
// real decode streaming 0.5 GB of weights per token does; "hot" reuses one matrix (cache-resident).
// Also: the lm_head (gemm_float) over 16384 of the 128256 vocabulary rows of 2560 values in each
// head type, cold, one token; and attention of 32 query rows (8 entries x 4 heads of a GQA group)
// over 512 F16 cells of head_dim 128, as in a 512-token prefill (and 4 rows, as in decode; scores
// and values also alone). Small batches: the decode shape
// with 2-16 tokens, cold (batch_6912x2560xN), to compare their MACs with prefill's.
//
// Single-threaded. Rates are per CPU second (Google Benchmark's default), which on a shared
// machine measures the kernel rather than the other processes; on a quiet one it equals wall time.
// Run e.g.
//   kernel-bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "tensor/quantize.h"
#include "util/half.h"

using bitnet::KernelTable;
using bitnet::QuantizedRow;

namespace {

enum class Format { I2S, TQ2, TQ1 };

int64_t block_elements(Format f) { return f == Format::I2S ? 128 : 256; }
int64_t block_bytes(Format f) { return f == Format::I2S ? 32 : f == Format::TQ2 ? 66 : 54; }
const char *format_label(Format f) { return f == Format::I2S ? "i2s" : f == Format::TQ2 ? "tq2_0" : "tq1_0"; }

using Gemm = void (*)(const uint8_t *, size_t, int64_t, int64_t, const QuantizedRow *, int64_t, float, float *,
                      int64_t);
Gemm gemm_of(const KernelTable &table, Format f) {
    const bitnet::TernaryLayout layout = f == Format::I2S   ? bitnet::TernaryLayout::I2S
                                         : f == Format::TQ2 ? bitnet::TernaryLayout::TQ2
                                                            : bitnet::TernaryLayout::TQ1;
    return table.gemm_ternary[static_cast<size_t>(layout)];
}

// Random ternary weights (codes 0..2) with f16 block scales where the format has them.
std::vector<uint8_t> make_weights(Format f, int64_t rows, int64_t cols, std::mt19937 &rng) {
    const int64_t row_bytes = cols / block_elements(f) * block_bytes(f);
    std::vector<uint8_t> bytes(static_cast<size_t>(rows * row_bytes));
    std::uniform_int_distribution<int> trit(0, 2), byte(0, 242);
    for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = f == Format::TQ1 ? static_cast<uint8_t>(byte(rng))
                                    : static_cast<uint8_t>(trit(rng) | trit(rng) << 2 | trit(rng) << 4 | trit(rng) << 6);
    }
    if (f != Format::I2S) {
        const uint16_t d = bitnet::float_to_half(0.01f);
        for (size_t at = static_cast<size_t>(block_bytes(f)) - 2; at < bytes.size(); at += block_bytes(f)) {
            bytes[at] = static_cast<uint8_t>(d & 0xff);
            bytes[at + 1] = static_cast<uint8_t>(d >> 8);
        }
    }
    return bytes;
}

struct Activations {
    std::vector<int8_t> codes;
    std::vector<QuantizedRow> rows;
};

Activations make_activations(const KernelTable &table, int64_t tokens, int64_t cols, std::mt19937 &rng) {
    Activations a;
    a.codes.resize(static_cast<size_t>(tokens * cols));
    std::vector<float> x(static_cast<size_t>(cols));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t t = 0; t < tokens; ++t) {
        for (float &v : x) v = normal(rng);
        QuantizedRow row{a.codes.data() + t * cols, 0.0f, 0};
        table.quantize_activations(x.data(), cols, cols, a.codes.data() + t * cols, &row.scale, &row.sum);
        a.rows.push_back(row);
    }
    return a;
}

// Weight copies of at least 256 MB in all, so that rotating through them misses every cache.
constexpr int64_t kColdBytes = 256ll << 20;

void bench_gemm(benchmark::State &state, const KernelTable *table, Format f, int64_t rows, int64_t cols,
                int64_t tokens, bool cold) {
    std::mt19937 rng(1);
    const int64_t row_bytes = cols / block_elements(f) * block_bytes(f);
    const int64_t matrix_bytes = rows * row_bytes;
    const int64_t copies = cold ? (kColdBytes + matrix_bytes - 1) / matrix_bytes : 1;
    std::vector<std::vector<uint8_t>> weights;
    weights.push_back(make_weights(f, rows, cols, rng));
    for (int64_t c = 1; c < copies; ++c) weights.push_back(weights.front());
    const Activations a = make_activations(*table, tokens, cols, rng);
    std::vector<float> out(static_cast<size_t>(rows * tokens));
    const Gemm gemm = gemm_of(*table, f);
    size_t next = 0;
    for (auto _ : state) {
        gemm(weights[next].data(), static_cast<size_t>(row_bytes), rows, cols, a.rows.data(), tokens, 1.0f, out.data(),
             rows);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        next = next + 1 == weights.size() ? 0 : next + 1;
    }
    state.SetBytesProcessed(state.iterations() * matrix_bytes);
    state.counters["MACs"] = benchmark::Counter(static_cast<double>(rows * cols * tokens),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void bench_quantize(benchmark::State &state, const KernelTable *table, int64_t n) {
    std::mt19937 rng(2);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n));
    for (float &v : x) v = normal(rng);
    std::vector<int8_t> codes(static_cast<size_t>(n));
    float scale;
    int32_t sum;
    for (auto _ : state) {
        table->quantize_activations(x.data(), n, n, codes.data(), &scale, &sum);
        benchmark::DoNotOptimize(codes.data());
        benchmark::DoNotOptimize(sum);
    }
    state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(sizeof(float)));
}

// One token through `rows` lm_head rows stored as `type` (random values encoded by the reference
// quantizer), rotating through copies larger than the caches: float activations (gemm_float) or,
// with `a8`, int8 ones (gemm_head_a8, the activations quantized once outside the loop as the
// backend does per token).
void bench_head(benchmark::State &state, const KernelTable *table, bitnet::TensorType type, int64_t rows,
                int64_t cols, int64_t tokens, bool a8) {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> values(static_cast<size_t>(rows * cols));
    for (float &v : values) v = normal(rng);
    const size_t row_bytes = bitnet::tensor_row_bytes(type, static_cast<uint64_t>(cols));
    const int64_t matrix_bytes = static_cast<int64_t>(row_bytes) * rows;
    std::vector<std::vector<uint8_t>> weights(static_cast<size_t>((kColdBytes + matrix_bytes - 1) / matrix_bytes));
    weights.front().resize(static_cast<size_t>(matrix_bytes));
    bitnet::quantize_tensor(type, values.data(), static_cast<uint64_t>(cols), static_cast<uint64_t>(rows),
                            weights.front().data());
    for (size_t c = 1; c < weights.size(); ++c) weights[c] = weights.front();
    // `tokens` output rows (parallel sequences, speculative verification), each quantized once.
    std::vector<float> x(static_cast<size_t>(cols * tokens)), out(static_cast<size_t>(rows * tokens));
    for (float &v : x) v = normal(rng);
    std::vector<const float *> inputs;
    std::vector<int8_t> codes(static_cast<size_t>(cols * tokens));
    std::vector<float> scales(static_cast<size_t>(cols / bitnet::kHeadActBlock * tokens));
    std::vector<bitnet::HeadActivations> quantized;
    for (int64_t t = 0; t < tokens; ++t) {
        inputs.push_back(x.data() + t * cols);
        bitnet::quantize_head_activations(x.data() + t * cols, cols, codes.data() + t * cols,
                                          scales.data() + t * (cols / bitnet::kHeadActBlock));
        quantized.push_back({codes.data() + t * cols, scales.data() + t * (cols / bitnet::kHeadActBlock)});
    }
    size_t next = 0;
    for (auto _ : state) {
        if (a8) {
            table->gemm_head_a8(type, weights[next].data(), row_bytes, rows, cols, quantized.data(),
                                static_cast<int32_t>(tokens), out.data(), rows);
        } else {
            table->gemm_float(type, weights[next].data(), row_bytes, rows, cols, inputs.data(), tokens, out.data(),
                              rows);
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        next = next + 1 == weights.size() ? 0 : next + 1;
    }
    state.SetBytesProcessed(state.iterations() * matrix_bytes);
    state.counters["MACs"] = benchmark::Counter(static_cast<double>(rows * cols * tokens),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// Scores and weighted values of `queries` query rows over `cells` F16 KV cells of one KV head
// (`part`: both, or only the scores or only the values, to see which one a change moved).
enum class AttentionPart { Both, Scores, Values };
void bench_attention(benchmark::State &state, const KernelTable *table, int32_t queries, int32_t cells,
                     int32_t head_dim, AttentionPart part) {
    std::mt19937 rng(4);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int32_t n_embd_kv = 5 * head_dim;  // 5 KV heads, as in 2B-4T
    std::vector<uint16_t> keys(static_cast<size_t>(cells) * n_embd_kv), values(keys.size());
    for (uint16_t &k : keys) k = bitnet::float_to_half(normal(rng));
    for (uint16_t &v : values) v = bitnet::float_to_half(normal(rng));
    std::vector<float> q(static_cast<size_t>(queries) * head_dim), out(q.size());
    for (float &v : q) v = normal(rng);
    std::vector<const float *> query_rows;
    std::vector<float *> out_rows;
    for (int32_t i = 0; i < queries; ++i) {
        query_rows.push_back(q.data() + i * head_dim);
        out_rows.push_back(out.data() + i * head_dim);
    }
    std::vector<int32_t> cell_list(static_cast<size_t>(cells));
    for (int32_t c = 0; c < cells; ++c) cell_list[c] = c;
    std::vector<float> scores(static_cast<size_t>(queries) * cells);
    const size_t stride = static_cast<size_t>(n_embd_kv) * sizeof(uint16_t);
    for (auto _ : state) {
        if (part != AttentionPart::Values) {
            table->attention_scores(query_rows.data(), queries, reinterpret_cast<const uint8_t *>(keys.data()), stride,
                                    true, cell_list.data(), cells, head_dim, 0.088f, scores.data(), cells);
        }
        if (part != AttentionPart::Scores) {
            table->attention_values(scores.data(), cells, queries, reinterpret_cast<const uint8_t *>(values.data()),
                                    stride, true, cell_list.data(), cells, head_dim, out_rows.data());
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.counters["MACs"] = benchmark::Counter((part == AttentionPart::Both ? 2.0 : 1.0) * queries * cells * head_dim,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
    const KernelTable *tables[8];
    size_t count = bitnet::available_cpu_kernels(tables, 8);
    if (count > 8) count = 8;
    for (size_t v = 0; v < count; ++v) {
        const KernelTable *table = tables[v];
        const std::string variant = table->name;
        for (Format f : {Format::I2S, Format::TQ2, Format::TQ1}) {
            const std::string base = std::string("gemm_") + format_label(f) + "/" + variant;
            benchmark::RegisterBenchmark((base + "/decode_6912x2560x1/cold").c_str(), bench_gemm, table, f, 6912, 2560,
                                         1, true)
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark((base + "/decode_6912x2560x1/hot").c_str(), bench_gemm, table, f, 6912, 2560,
                                         1, false)
                ->Unit(benchmark::kMicrosecond);
            // The scalar kernel needs seconds per prefill call; its decode numbers tell enough.
            if (variant != "scalar") {
                benchmark::RegisterBenchmark((base + "/prefill_2560x6912x64").c_str(), bench_gemm, table, f, 2560,
                                             6912, 64, false)
                    ->Unit(benchmark::kMillisecond);
                // The shapes of a real prompt: 3/4 of 2B-4T's multiply-adds are in rows of 2560
                // columns (q, k, v, o, gate, up), and a 512-token prompt's activations overflow L2.
                benchmark::RegisterBenchmark((base + "/prefill_6912x2560x512").c_str(), bench_gemm, table, f, 6912,
                                             2560, 512, false)
                    ->Unit(benchmark::kMillisecond);
                benchmark::RegisterBenchmark((base + "/prefill_2560x6912x512").c_str(), bench_gemm, table, f, 2560,
                                             6912, 512, false)
                    ->Unit(benchmark::kMillisecond);
                // Small batches (parallel sequences, speculative verification): the ffn_gate/up
                // shape, cold like decode, N tokens; compare its MACs with prefill's.
                for (int64_t n : {2, 3, 4, 5, 8, 16}) {
                    benchmark::RegisterBenchmark((base + "/batch_6912x2560x" + std::to_string(n) + "/cold").c_str(),
                                                 bench_gemm, table, f, 6912, 2560, n, true)
                        ->Unit(benchmark::kMicrosecond);
                }
            }
        }
        benchmark::RegisterBenchmark(("quantize_activations/" + variant + "/2560").c_str(), bench_quantize, table,
                                     int64_t{2560})
            ->Unit(benchmark::kNanosecond);
        for (bitnet::TensorType type : {bitnet::TensorType::F16, bitnet::TensorType::Q8_0, bitnet::TensorType::Q6_K,
                                        bitnet::TensorType::Q4_0}) {
            // One token (decode); 4, 8 and 16 (parallel sequences, speculative verification: one
            // pass over the head for all of them).
            for (int64_t tokens : {1, 4, 8, 16}) {
                const std::string shape = "/16384x2560x" + std::to_string(tokens) + "/cold";
                benchmark::RegisterBenchmark(
                    ("lm_head_" + std::string(bitnet::tensor_type_name(type)) + "/" + variant + shape).c_str(),
                    bench_head, table, type, int64_t{16384}, int64_t{2560}, tokens, false)
                    ->Unit(benchmark::kMicrosecond);
                if (type == bitnet::TensorType::F16) continue;
                benchmark::RegisterBenchmark(
                    ("lm_head_a8_" + std::string(bitnet::tensor_type_name(type)) + "/" + variant + shape).c_str(),
                    bench_head, table, type, int64_t{16384}, int64_t{2560}, tokens, true)
                    ->Unit(benchmark::kMicrosecond);
            }
        }
        if (variant != "scalar") {
            // A prefill item of 2B-4T (8 entries x the 4 query heads of a KV head) and a decode one
            // (1 entry x 4 heads), both over 512 cells of head size 128.
            for (const auto &[part, name] : {std::pair{AttentionPart::Both, "attention_f16/"},
                                             std::pair{AttentionPart::Scores, "attention_scores_f16/"},
                                             std::pair{AttentionPart::Values, "attention_values_f16/"}}) {
                for (int32_t queries : {32, 4}) {
                    benchmark::RegisterBenchmark(
                        (name + variant + "/" + std::to_string(queries) + "q_x_512cells_x128").c_str(),
                        bench_attention, table, queries, 512, 128, part)
                        ->Unit(benchmark::kMicrosecond);
                }
            }
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
