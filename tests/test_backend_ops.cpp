// Every op of the op set (lib/runtime/ops.h) on every backend, one op at a time, against a plain
// double-precision definition written here from formats.md (in the spirit of ggml's
// test-backend-ops). The CPU backend always runs; the Vulkan backend runs where a device exists
// (lavapipe here and in CI) and otherwise reports "skipped" with the reason.
//
// How one op is observed: the ops name activation buffers and never hand out pointers, so each
// test drives them through the op set itself. Inputs enter exactly through embed() of an F32
// "embedding" whose rows are the test's random rows, then, where another buffer must hold them,
// through an F32 selection matrix (one 1 per row: a float product with 1 plus exact zeros, so the
// copy is exact on every backend). Results leave exactly through output() with an F32 identity
// "lm_head" as wide as the buffer read. A buffer a test cannot fill directly (Gate, Up from a
// random projection) is first read back the same way, so the reference starts from the very
// floats the op received.
//
// Sizes are odd on purpose: n_embd 96 and 160 (no whole TQ block), n_ff 80, 176 and 200 (ternary
// and quantized rows padded with zero weights to the block), GQA ratios 1, 2 and 3, batches of 1,
// 3 and 7 tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "api/build_info.h"
#include "backend/backend_registry.h"
#include "model/model.h"
#include "model/model_lifetime.h"
#include "reference/reference.h"
#include "runtime/arena.h"
#include "runtime/backend.h"
#include "runtime/batch_plan.h"
#include "runtime/context.h"
#include "runtime/kv_cache.h"
#include "tensor/quantize.h"
#include "tensor/tensor_type.h"
#include "tokenizer/vocabulary.h"  // bitnet_model's destructor frees its (absent) vocabulary
#include "util/error.h"

namespace {

using bitnet::Act;
using bitnet::TensorType;
using bitnet::Weight;
using Rows = std::vector<std::vector<double>>;

// ---------------------------------------------------------------------------------------------
// Shapes and backends
// ---------------------------------------------------------------------------------------------

struct Shape {
    const char *name;
    int32_t n_embd, n_head, n_head_kv, n_ff, n_tokens;
    int32_t n_embd_kv() const { return n_embd / n_head * n_head_kv; }
};

const Shape kShapes[] = {
    {"embd96_gqa1_ff80_tokens1", 96, 6, 6, 80, 1},
    {"embd160_gqa2_ff200_tokens3", 160, 10, 5, 200, 3},
    {"embd96_gqa3_ff176_tokens7", 96, 6, 2, 176, 7},
};

enum class BackendKind { Cpu, Vulkan };

struct OpCase {
    BackendKind backend;
    Shape shape;
};

// How gtest prints a case (instead of its bytes).
void PrintTo(const OpCase &test_case, std::ostream *out) {
    *out << (test_case.backend == BackendKind::Cpu ? "cpu " : "vulkan ") << test_case.shape.name;
}

std::string case_name(const testing::TestParamInfo<OpCase> &info) {
    return std::string(info.param.backend == BackendKind::Cpu ? "cpu_" : "vulkan_") + info.param.shape.name;
}

std::vector<OpCase> all_cases() {
    std::vector<OpCase> cases;
    for (BackendKind backend : {BackendKind::Cpu, BackendKind::Vulkan}) {
        for (const Shape &shape : kShapes) cases.push_back({backend, shape});
    }
    return cases;
}

void keep_vulkan_device_open();

// Why the Vulkan backend cannot run here, or "" when it can: opening the device answers it.
std::string vulkan_unavailable_reason() {
    if (!bitnet::built_with_vulkan()) return "this build has no Vulkan backend (BITNET_VULKAN=OFF)";
    try {
        keep_vulkan_device_open();
    } catch (const bitnet::Error &error) {
        return error.what();
    }
    return "";
}

#define REQUIRE_BACKEND(kind)                                                                    \
    if ((kind) == BackendKind::Vulkan) {                                                         \
        static const std::string reason = vulkan_unavailable_reason();                           \
        if (!reason.empty()) GTEST_SKIP() << "skipped: no Vulkan device to test on: " << reason; \
    }

std::vector<float> random_values(size_t count, std::mt19937_64 &random, float low = -1.0f, float high = 1.0f) {
    std::uniform_real_distribution<float> distribution(low, high);
    std::vector<float> values(count);
    for (float &value : values) value = distribution(random);
    return values;
}

// ---------------------------------------------------------------------------------------------
// A model assembled in memory
// ---------------------------------------------------------------------------------------------

// Elements per block along a row, to which a weight's rows are padded with zeros.
uint64_t block_elements(TensorType type) { return bitnet::tensor_type_traits(type).block_elements; }
uint64_t round_up(uint64_t value, uint64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Hyperparameters and the weights one test needs. Each weight sits in a slot the backends read
// (the Vulkan backend uploads every layer weight and the lm_head, and finds a weight by its data
// pointer): projections in projection slots, vectors in norm slots, layers added as needed.
class TestModel {
public:
    TestModel(const Shape &shape, int32_t n_vocab) {
        bitnet::HyperParams &hp = model_.hparams;
        hp.n_vocab = n_vocab;
        hp.n_ctx_train = 64;
        hp.n_embd = shape.n_embd;
        hp.n_head = shape.n_head;
        hp.n_head_kv = shape.n_head_kv;
        hp.n_ff = shape.n_ff;
        hp.head_dim = shape.n_embd / shape.n_head;
        hp.n_rot = hp.head_dim;
        hp.rope_freq_base = 10000.0f;
        hp.norm_eps = 1e-5f;
        hp.n_layer = 0;
        model_.name = "op-test";
        model_.load_id = bitnet::next_model_load_id();
    }
    bitnet::HyperParams &hparams() { return model_.hparams; }
    const bitnet_model &model() const { return model_; }

    // A weight of `rows` x `cols` (row-major `values`) stored as `type`, rows padded with zeros to
    // the type's block. Ternary types expect ternary-times-scale values (the quantizers' contract).
    Weight weight(TensorType type, uint64_t rows, uint64_t cols, const std::vector<float> &values) {
        const uint64_t stored_cols = round_up(cols, block_elements(type));
        std::vector<float> padded(rows * stored_cols, 0.0f);
        for (uint64_t r = 0; r < rows; ++r) {
            std::copy_n(values.begin() + static_cast<int64_t>(r * cols), cols,
                        padded.begin() + static_cast<int64_t>(r * stored_cols));
        }
        uint64_t bytes = 0;
        EXPECT_TRUE(bitnet::tensor_total_bytes(type, rows * stored_cols, stored_cols, &bytes));
        storage_.push_back(std::make_unique<uint8_t[]>(bytes + 64));  // + the shaders' over-read
        std::memset(storage_.back().get(), 0, bytes + 64);
        bitnet::quantize_tensor(type, padded.data(), stored_cols, rows, storage_.back().get());
        Weight weight;
        weight.type = type;
        weight.cols = cols;
        weight.stored_cols = stored_cols;
        weight.rows = rows;
        weight.data = storage_.back().get();
        if (type == TensorType::I2_S) weight.scale = bitnet::tensor_scale(type, weight.data, rows * stored_cols);
        return weight;
    }

    // Put a projection (or lm_head-like reader) where the backends will find it.
    Weight place_projection(const Weight &weight) {
        if (projections_used_ % 7 == 0) add_layer();
        bitnet::LayerWeights &layer = model_.weights.layers.back();
        Weight *slots[] = {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.ffn_gate, &layer.ffn_up, &layer.ffn_down};
        *slots[projections_used_++ % 7] = weight;
        return weight;
    }
    // Put a norm vector where the backends will find it.
    Weight place_norm(const Weight &weight) {
        if (norms_used_ % 4 == 0 && norms_used_ / 4 >= static_cast<int>(model_.weights.layers.size())) add_layer();
        bitnet::LayerWeights &layer = model_.weights.layers[static_cast<size_t>(norms_used_ / 4)];
        Weight *slots[] = {&layer.attn_norm, &layer.attn_sub_norm, &layer.ffn_norm, &layer.ffn_sub_norm};
        *slots[norms_used_++ % 4] = weight;
        return weight;
    }
    void set_lm_head(const Weight &weight) { model_.weights.output = weight; }
    void set_token_embedding(const Weight &weight) { model_.weights.token_embd = weight; }

private:
    void add_layer() {
        model_.weights.layers.emplace_back();
        model_.hparams.n_layer = static_cast<int32_t>(model_.weights.layers.size());
    }

    bitnet_model model_;
    std::vector<std::unique_ptr<uint8_t[]>> storage_;
    int projections_used_ = 0;
    int norms_used_ = 0;
};

// F32 [n_vocab x width] whose first `width` rows are the identity: output() with it copies a
// buffer row of `width` values into the logits exactly (the other rows give zeros). As many rows
// as the vocabulary, so the logits have the same row stride on every backend.
std::vector<float> identity_reader(int32_t n_vocab, int64_t width) {
    std::vector<float> values(static_cast<size_t>(n_vocab * width), 0.0f);
    for (int64_t i = 0; i < width; ++i) values[static_cast<size_t>(i * width + i)] = 1.0f;
    return values;
}

// F32 [rows x cols] taking input column `first + r` into output row r: an exact copy of a window.
std::vector<float> selection(int64_t rows, int64_t cols, int64_t first) {
    std::vector<float> values(static_cast<size_t>(rows * cols), 0.0f);
    for (int64_t r = 0; r < rows; ++r) values[static_cast<size_t>(r * cols + first + r)] = 1.0f;
    return values;
}

// ---------------------------------------------------------------------------------------------
// Running ops on a backend
// ---------------------------------------------------------------------------------------------

struct RunSettings {
    bool quantize_activations = true;
    bitnet_kv_type kv_type = BITNET_KV_F32;
    uint32_t n_ctx = 32;
};

// One backend over a TestModel, laid out in its own arena as a context lays it out.
class OpRunner {
public:
    OpRunner(const bitnet_model &model, BackendKind kind, int32_t n_batch, const RunSettings &settings)
        : model_(model) {
        config_.n_ctx = settings.n_ctx;
        config_.n_batch = n_batch;
        config_.n_seq_max = 1;
        config_.n_outputs_max = n_batch;
        config_.n_threads = 2;
        config_.kv_type = settings.kv_type;
        config_.quantize_activations = settings.quantize_activations;
        config_.backend = kind == BackendKind::Cpu ? BITNET_BACKEND_CPU : BITNET_BACKEND_VULKAN;
        bitnet::Arena measuring;
        layout(measuring);
        memory_ = bitnet::AlignedBuffer(measuring.required());
        bitnet::Arena arena(memory_.data(), measuring.required());
        layout(arena);
        kv_.clear();
        logits_.assign(static_cast<size_t>(n_batch) * model.hparams.n_vocab, 0.0f);
        backend_->set_outputs({logits_.data(), nullptr});
        view_pos_.assign(settings.n_ctx, -1);
        view_seq_mask_.assign(settings.n_ctx, 0);
    }

    // One decode of the entries at `positions` (sequence 0, KV cells first_cell, first_cell + 1,
    // ...; every entry an output) looking up embedding rows `tokens`: `ops` records the ops under
    // test, then output(reader, read) copies `read` out. Returns `width` values per entry.
    Rows run(const std::vector<int32_t> &tokens, const std::vector<int32_t> &positions, int32_t first_cell,
             const std::function<void(bitnet::Ops &)> &ops, const Weight &reader, Act read, int64_t width) {
        const int32_t n = static_cast<int32_t>(tokens.size());
        std::vector<uint64_t> token_seq_mask(static_cast<size_t>(n), 1);
        std::vector<int32_t> cells(static_cast<size_t>(n)), output_entries(static_cast<size_t>(n));
        for (int32_t t = 0; t < n; ++t) {
            cells[t] = first_cell + t;
            output_entries[t] = t;
            view_pos_[static_cast<size_t>(cells[t])] = positions[t];
            view_seq_mask_[static_cast<size_t>(cells[t])] = 1;
        }
        bitnet::BatchPlan plan;
        plan.n_tokens = n;
        plan.tokens = tokens.data();
        plan.positions = positions.data();
        plan.token_seq_mask = token_seq_mask.data();
        plan.cells = cells.data();
        plan.output_entries = output_entries.data();
        plan.n_outputs = n;
        plan.view = {view_pos_.data(), view_seq_mask_.data()};
        plan.n_cells_used = 0;
        for (int32_t c = 0; c < static_cast<int32_t>(view_pos_.size()); ++c) {
            if (view_pos_[static_cast<size_t>(c)] >= 0) plan.n_cells_used = c + 1;
        }
        backend_->begin(plan);
        ops(*backend_);
        backend_->output(reader, read);
        backend_->end();
        Rows rows(static_cast<size_t>(n));
        for (int32_t t = 0; t < n; ++t) {
            const float *logits = logits_.data() + static_cast<size_t>(t) * model_.hparams.n_vocab;
            rows[t].assign(logits, logits + width);
        }
        return rows;
    }

private:
    void layout(bitnet::Arena &arena) {
        const bitnet::HyperParams &hp = model_.hparams;
        kv_.layout(arena, hp.n_layer, hp.head_dim * hp.n_head_kv, config_.n_ctx, config_.kv_type,
                   bitnet::backend_keeps_kv_on_host(config_.backend));
        backend_ = bitnet::create_backend(model_, config_, kv_, arena);
    }

    const bitnet_model &model_;
    bitnet::ContextConfig config_;
    bitnet::AlignedBuffer memory_;
    bitnet::KvCache kv_;
    std::unique_ptr<bitnet::Backend> backend_;
    std::vector<float> logits_;
    std::vector<int32_t> view_pos_;
    std::vector<uint64_t> view_seq_mask_;
};

struct OpenVulkanDevice {
    TestModel model{kShapes[0], kShapes[0].n_embd};
    std::unique_ptr<OpRunner> runner;
};

}  // namespace

// One Vulkan backend kept for the whole program, never freed and reachable from this global (so
// LeakSanitizer sees it held): the device stays open between tests as in an application. Opening
// it again for every test would recompile every shader, and each time the Vulkan loader unloads
// lavapipe, the driver leaks a little. Opened before anything else looks for devices, so that the
// driver is loaded once and stays loaded.
void *bitnet_test_open_vulkan_device = nullptr;

// Lavapipe's own allocations that it never frees (in the driver and in LLVM, which it JITs with)
// are not this program's leaks.
extern "C" __attribute__((used, visibility("default"))) const char *__lsan_default_suppressions() {
    return "leak:libvulkan_lvp.so\nleak:libLLVM\n";
}

namespace {

void keep_vulkan_device_open() {
    if (bitnet_test_open_vulkan_device) return;  // only ever called from the main thread
    auto device = std::make_unique<OpenVulkanDevice>();
    const uint64_t n_embd = static_cast<uint64_t>(kShapes[0].n_embd);
    device->model.set_lm_head(device->model.place_projection(device->model.weight(
        TensorType::F32, n_embd, n_embd, std::vector<float>(static_cast<size_t>(n_embd * n_embd), 0.0f))));
    device->runner = std::make_unique<OpRunner>(device->model.model(), BackendKind::Vulkan, 1, RunSettings{});
    bitnet_test_open_vulkan_device = device.release();
}

std::vector<int32_t> iota(int32_t first, int32_t count) {
    std::vector<int32_t> values(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = first + i;
    return values;
}

// The rows of a row-major float table as doubles.
Rows as_rows(const std::vector<float> &values, int64_t n_rows, int64_t width, int64_t first_row = 0) {
    Rows rows(static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto begin = values.begin() + (first_row + r) * width;
        rows[static_cast<size_t>(r)].assign(begin, begin + width);
    }
    return rows;
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

// max |actual - expected| / max |expected| over every row: one rounding of the largest value is
// ~6e-8 in float, so a float computation of n terms stays well below n * 6e-8 of its scale.
double worst_relative_error(const Rows &actual, const Rows &expected) {
    double scale = 0.0, worst = 0.0;
    for (size_t r = 0; r < expected.size(); ++r) {
        for (size_t i = 0; i < expected[r].size(); ++i) {
            scale = std::max(scale, std::fabs(expected[r][i]));
            worst = std::max(worst, std::fabs(actual[r][i] - expected[r][i]));
        }
    }
    return scale > 0 ? worst / scale : worst;
}

void expect_rows_shape(const Rows &actual, const Rows &expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t r = 0; r < expected.size(); ++r) ASSERT_EQ(actual[r].size(), expected[r].size()) << "row " << r;
}

#define EXPECT_CLOSE(actual, expected, tolerance, what)                                                  \
    do {                                                                                                 \
        expect_rows_shape(actual, expected);                                                             \
        const double error = worst_relative_error(actual, expected);                                     \
        EXPECT_LE(error, tolerance) << (what);                                                           \
        std::printf("[ %s ] worst relative error %.3g (limit %.0e)\n", std::string(what).c_str(), error, \
                    static_cast<double>(tolerance));                                                     \
    } while (0)

#define EXPECT_EXACT(actual, expected, what)                                                                \
    do {                                                                                                    \
        expect_rows_shape(actual, expected);                                                                \
        for (size_t r = 0; r < (expected).size(); ++r) {                                                    \
            for (size_t i = 0; i < (expected)[r].size(); ++i) {                                             \
                ASSERT_EQ((actual)[r][i], (expected)[r][i]) << (what) << ": entry " << r << " value " << i; \
            }                                                                                               \
        }                                                                                                   \
    } while (0)

// ---------------------------------------------------------------------------------------------
// The definitions, from first principles in double (formats.md)
// ---------------------------------------------------------------------------------------------

// Weight::scale is the per-tensor scale of the type (the I2_S tail, formats.md §2.3) times any
// `.scale` tensor, folded at load (model.h). The reference decoders below already apply the
// tail, read from the bytes, so this is the factor left to multiply the output by.
double output_factor(const Weight &weight) {
    if (weight.type != TensorType::I2_S) return weight.scale;
    float tail = 0.0f;
    std::memcpy(&tail, weight.data + weight.rows * weight.stored_cols / 4, sizeof tail);
    return static_cast<double>(weight.scale) / static_cast<double>(tail);
}

// y = W x, W decoded exactly from its bytes.
std::vector<double> dense_product(const Weight &weight, const std::vector<double> &input) {
    const std::vector<double> w = bitnet_reference::decode_dense(
        weight.type, weight.data, static_cast<int>(weight.rows), static_cast<int>(weight.stored_cols));
    std::vector<double> out(weight.rows, 0.0);
    for (uint64_t r = 0; r < weight.rows; ++r) {
        for (uint64_t c = 0; c < weight.cols; ++c) out[r] += w[r * weight.stored_cols + c] * input[c];
    }
    for (double &value : out) value *= output_factor(weight);
    return out;
}

// BitLinear with int8 activations (formats.md §2.4, design.md): s = 127 / max(max|x|, 1e-5) and
// codes = clamp(round_half_even(x * s), -128, 127), both in float as the specification states,
// so the integer codes and the integer dot products are exact; then
// y_r = sum over blocks b of scale_rb * (sum_i t_ri * code_i) / s, times the I2_S tensor scale.
std::vector<double> bitlinear_a8(const Weight &weight, const std::vector<double> &input) {
    float max_abs = 0.0f;
    for (double value : input) max_abs = std::max(max_abs, std::fabs(static_cast<float>(value)));
    const float s = 127.0f / std::max(max_abs, 1e-5f);
    std::vector<int64_t> codes(weight.stored_cols, 0);
    for (uint64_t i = 0; i < weight.cols; ++i) {
        const float scaled = static_cast<float>(input[i]) * s;
        codes[i] = std::clamp<int64_t>(static_cast<int64_t>(std::nearbyint(scaled)), -128, 127);
    }
    const bitnet_reference::TernaryTensor ternary = bitnet_reference::decode_ternary(
        weight.type, weight.data, static_cast<int>(weight.rows), static_cast<int>(weight.stored_cols));
    const int blocks = ternary.cols / ternary.block;
    std::vector<double> out(weight.rows, 0.0);
    for (int r = 0; r < ternary.rows; ++r) {
        for (int b = 0; b < blocks; ++b) {
            int64_t dot = 0;
            for (int i = b * ternary.block; i < (b + 1) * ternary.block; ++i) {
                dot += ternary.codes[static_cast<size_t>(r) * ternary.cols + i] * codes[static_cast<size_t>(i)];
            }
            out[r] += ternary.scales[static_cast<size_t>(r) * blocks + b] * static_cast<double>(dot);
        }
        out[r] = out[r] / s * output_factor(weight);
    }
    return out;
}

// BitLinear with float activations (the analysis mode): y = W_eff x.
std::vector<double> bitlinear_float(const Weight &weight, const std::vector<double> &input) {
    return dense_product(weight, input);
}

std::vector<double> activation(bitnet::FfnActivation kind, const std::vector<double> &gate,
                               const std::vector<double> &up) {
    std::vector<double> out(gate.size());
    for (size_t i = 0; i < gate.size(); ++i) {
        const double g = gate[i];
        const double activated =
            kind == bitnet::FfnActivation::Silu ? g / (1.0 + std::exp(-g)) : std::max(g, 0.0) * std::max(g, 0.0);
        out[i] = activated * up[i];
    }
    return out;
}

// Causal GQA attention of each query (n_head heads) over the cached keys and values (n_head_kv
// heads) at positions <= its own: softmax(q . k / sqrt(head_dim)) v, query head h reading KV head
// h / (n_head / n_head_kv).
std::vector<double> attention(const std::vector<double> &query, int32_t query_position, const Rows &keys,
                              const Rows &values, const std::vector<int32_t> &positions,
                              const bitnet::HyperParams &hp) {
    const int32_t group = hp.n_head / hp.n_head_kv;
    std::vector<double> out(static_cast<size_t>(hp.n_embd), 0.0);
    for (int32_t h = 0; h < hp.n_head; ++h) {
        const int32_t kv_head = h / group;
        std::vector<double> scores;
        std::vector<size_t> seen;
        for (size_t c = 0; c < keys.size(); ++c) {
            if (positions[c] > query_position) continue;
            double dot = 0.0;
            for (int32_t i = 0; i < hp.head_dim; ++i) {
                dot += query[static_cast<size_t>(h * hp.head_dim + i)] *
                       keys[c][static_cast<size_t>(kv_head * hp.head_dim + i)];
            }
            scores.push_back(dot / std::sqrt(static_cast<double>(hp.head_dim)));
            seen.push_back(c);
        }
        const double top = *std::max_element(scores.begin(), scores.end());
        double total = 0.0;
        for (double &score : scores) total += (score = std::exp(score - top));
        for (size_t j = 0; j < seen.size(); ++j) {
            for (int32_t i = 0; i < hp.head_dim; ++i) {
                out[static_cast<size_t>(h * hp.head_dim + i)] +=
                    scores[j] / total * values[seen[j]][static_cast<size_t>(kv_head * hp.head_dim + i)];
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

class BackendOps : public testing::TestWithParam<OpCase> {
protected:
    const Shape &shape() const { return GetParam().shape; }
    BackendKind backend() const { return GetParam().backend; }
    // A vocabulary as wide as the widest buffer read, so one identity reader fits each buffer.
    int32_t n_vocab() const { return std::max(shape().n_embd, shape().n_ff); }
    std::string label(const std::string &what) const {
        return what + (backend() == BackendKind::Cpu ? " on cpu, " : " on vulkan, ") + shape().name;
    }
};

// The batch's inputs: F32 embedding rows (exact) and the readers of each buffer width.
struct Fixture {
    TestModel model;
    std::vector<float> inputs;  // [n_tokens_total][n_embd]
    Weight reader_embd, reader_kv, reader_ff;

    Fixture(const Shape &shape, int32_t n_vocab, int32_t n_tokens_total, uint64_t seed) : model(shape, n_vocab) {
        std::mt19937_64 random(seed);
        inputs = random_values(static_cast<size_t>(n_tokens_total) * shape.n_embd, random);
        model.set_token_embedding(model.weight(TensorType::F32, static_cast<uint64_t>(n_tokens_total),
                                               static_cast<uint64_t>(shape.n_embd), inputs));
        reader_embd = model.place_projection(model.weight(TensorType::F32, static_cast<uint64_t>(n_vocab),
                                                          static_cast<uint64_t>(shape.n_embd),
                                                          identity_reader(n_vocab, shape.n_embd)));
        reader_kv = model.place_projection(model.weight(TensorType::F32, static_cast<uint64_t>(n_vocab),
                                                        static_cast<uint64_t>(shape.n_embd_kv()),
                                                        identity_reader(n_vocab, shape.n_embd_kv())));
        reader_ff = model.place_projection(model.weight(TensorType::F32, static_cast<uint64_t>(n_vocab),
                                                        static_cast<uint64_t>(shape.n_ff),
                                                        identity_reader(n_vocab, shape.n_ff)));
        model.set_lm_head(reader_embd);  // the Vulkan backend makes its lm_head pipeline for this type (F32)
    }
};

TEST_P(BackendOps, EmbedLooksUpRowsExactly) {
    REQUIRE_BACKEND(backend());
    // F16, BF16 and Q8_0 rows decode to float exactly (a half times an int8 is exact in float).
    for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0}) {
        Fixture fixture(shape(), n_vocab(), shape().n_tokens + 2, 11);
        const Weight embedding = fixture.model.weight(type, static_cast<uint64_t>(shape().n_tokens + 2),
                                                      static_cast<uint64_t>(shape().n_embd), fixture.inputs);
        // The model's own token embedding: a device backend uploads the model's tables when the
        // runner's context is made (and chooses its lookup pipeline for this type), so an ad hoc
        // table would not be on the device.
        fixture.model.set_token_embedding(embedding);
        OpRunner runner(fixture.model.model(), backend(), shape().n_tokens, {});
        // Tokens in reverse order, skipping row 0: the lookup must follow the token ids.
        std::vector<int32_t> tokens;
        for (int32_t t = 0; t < shape().n_tokens; ++t) tokens.push_back(shape().n_tokens + 1 - t);
        const Rows actual = runner.run(
            tokens, iota(0, shape().n_tokens), 0, [&](bitnet::Ops &ops) { ops.embed(embedding); }, fixture.reader_embd,
            Act::Residual, shape().n_embd);
        const std::vector<double> decoded =
            bitnet_reference::decode_dense(type, embedding.data, shape().n_tokens + 2, shape().n_embd);
        Rows expected;
        for (int32_t token : tokens) {
            expected.emplace_back(decoded.begin() + static_cast<int64_t>(token) * shape().n_embd,
                                  decoded.begin() + static_cast<int64_t>(token + 1) * shape().n_embd);
        }
        EXPECT_EXACT(actual, expected, label(std::string("embed ") + bitnet::tensor_type_name(type)));
    }
}

TEST_P(BackendOps, RmsNormMatchesDefinition) {
    REQUIRE_BACKEND(backend());
    Fixture fixture(shape(), n_vocab(), shape().n_tokens, 12);
    std::mt19937_64 random(13);
    const std::vector<float> gamma_values = random_values(static_cast<size_t>(shape().n_embd), random, 0.5f, 1.5f);
    const Weight gamma = fixture.model.place_norm(
        fixture.model.weight(TensorType::F32, 1, static_cast<uint64_t>(shape().n_embd), gamma_values));
    OpRunner runner(fixture.model.model(), backend(), shape().n_tokens, {});
    const Rows actual = runner.run(
        iota(0, shape().n_tokens), iota(0, shape().n_tokens), 0,
        [&](bitnet::Ops &ops) {
            ops.embed(fixture.model.model().weights.token_embd);
            ops.rms_norm(Act::Residual, gamma, Act::Normed);
        },
        fixture.reader_embd, Act::Normed, shape().n_embd);
    const std::vector<double> gamma_doubles(gamma_values.begin(), gamma_values.end());
    Rows expected;
    for (const std::vector<double> &x : as_rows(fixture.inputs, shape().n_tokens, shape().n_embd)) {
        expected.push_back(bitnet_reference::rms_norm(x, gamma_doubles, static_cast<double>(1e-5f)));
    }
    // A float sum of n_embd squares, a square root and a product per value: a few 1e-7 at most.
    EXPECT_CLOSE(actual, expected, 1e-6, label("rms_norm"));
}

// Random weight values for `type`: ternary times a scale (one per tensor for I2_S, one per
// 256-block for TQ, as those formats store them), or plain random floats.
std::vector<float> weight_values(TensorType type, uint64_t rows, uint64_t cols, std::mt19937_64 &random) {
    std::vector<float> values(rows * cols);
    if (!bitnet::tensor_type_traits(type).ternary) return random_values(rows * cols, random);
    std::uniform_int_distribution<int> ternary(-1, 1);
    std::uniform_real_distribution<float> scale(0.25f, 2.0f);
    const float tensor_scale = scale(random);
    for (uint64_t r = 0; r < rows; ++r) {
        float block_scale = tensor_scale;
        for (uint64_t c = 0; c < cols; ++c) {
            if (type != TensorType::I2_S && c % 256 == 0) block_scale = scale(random);
            values[r * cols + c] = static_cast<float>(ternary(random)) * block_scale;
        }
    }
    return values;
}

// project() for every weight type, with int8 and with float activations, on both input widths:
// Residual (n_embd) into Gate (n_ff rows), and Gate (n_ff, padded to the block) into Projected.
TEST_P(BackendOps, ProjectMatchesDefinitionForEveryWeightType) {
    REQUIRE_BACKEND(backend());
    const TensorType types[] = {TensorType::F32,  TensorType::F16,   TensorType::BF16,
                                TensorType::I2_S, TensorType::TQ2_0, TensorType::TQ1_0};
    for (bool quantize_activations : {true, false}) {
        Fixture fixture(shape(), n_vocab(), shape().n_tokens, 21);
        std::mt19937_64 random(22);
        const uint64_t n_embd = static_cast<uint64_t>(shape().n_embd), n_ff = static_cast<uint64_t>(shape().n_ff);
        // Gate's input to the second projection comes from an F32 projection of the embeddings.
        const Weight to_gate = fixture.model.place_projection(
            fixture.model.weight(TensorType::F32, n_ff, n_embd, random_values(n_ff * n_embd, random)));
        std::vector<Weight> up_weights, down_weights;
        for (TensorType type : types) {
            up_weights.push_back(fixture.model.place_projection(
                fixture.model.weight(type, n_ff, n_embd, weight_values(type, n_ff, n_embd, random))));
            down_weights.push_back(fixture.model.place_projection(
                fixture.model.weight(type, n_embd, n_ff, weight_values(type, n_embd, n_ff, random))));
            // The optional "<name>.scale" tensor of the bitnet architecture multiplies the output.
            down_weights.back().scale *= 1.25f;
        }
        RunSettings settings;
        settings.quantize_activations = quantize_activations;
        OpRunner runner(fixture.model.model(), backend(), shape().n_tokens, settings);
        const std::vector<int32_t> tokens = iota(0, shape().n_tokens);
        const auto &embedding = fixture.model.model().weights.token_embd;
        const Rows embedded = as_rows(fixture.inputs, shape().n_tokens, shape().n_embd);
        const Rows gate = runner.run(
            tokens, tokens, 0,
            [&](bitnet::Ops &ops) {
                ops.embed(embedding);
                ops.project(to_gate, Act::Residual, Act::Gate);
            },
            fixture.reader_ff, Act::Gate, shape().n_ff);
        for (size_t i = 0; i < up_weights.size(); ++i) {
            const Weight &up = up_weights[i], &down = down_weights[i];
            const bool ternary = bitnet::tensor_type_traits(up.type).ternary;
            auto definition = [&](const Weight &weight, const std::vector<double> &x) {
                if (!ternary) return dense_product(weight, x);
                return quantize_activations ? bitlinear_a8(weight, x) : bitlinear_float(weight, x);
            };
            const std::string what =
                std::string("project ") + bitnet::tensor_type_name(up.type) +
                (ternary ? (quantize_activations ? " int8 activations" : " float activations") : "");
            const Rows actual_up = runner.run(
                tokens, tokens, 0,
                [&](bitnet::Ops &ops) {
                    ops.embed(embedding);
                    ops.project(up, Act::Residual, Act::Gate);
                },
                fixture.reader_ff, Act::Gate, shape().n_ff);
            const Rows actual_down = runner.run(
                tokens, tokens, 0,
                [&](bitnet::Ops &ops) {
                    ops.embed(embedding);
                    ops.project(to_gate, Act::Residual, Act::Gate);
                    ops.project(down, Act::Gate, Act::Projected);
                },
                fixture.reader_embd, Act::Projected, shape().n_embd);
            Rows expected_up, expected_down;
            for (size_t t = 0; t < embedded.size(); ++t) {
                expected_up.push_back(definition(up, embedded[t]));
                expected_down.push_back(definition(down, gate[t]));
            }
            // int8 activations: the codes and integer dots are exact, so what is left is the float
            // scaling at the end (a few roundings); a single code off by one would cost ~1e-3.
            // Float activations or weights: a float dot of up to n_ff terms, in blocks.
            const double tolerance = ternary && quantize_activations ? 1e-6 : 1e-5;
            EXPECT_CLOSE(actual_up, expected_up, tolerance, label(what + ", n_embd inputs"));
            EXPECT_CLOSE(actual_down, expected_down, tolerance, label(what + ", n_ff inputs (padded)"));
        }
    }
}

// rope() of Q (n_head heads) and K (n_head_kv heads), NEOX and adjacent pairs, at small and large
// positions, rotating whole heads or only their first half (rope.dimension_count < head_dim).
TEST_P(BackendOps, RopeMatchesDefinition) {
    REQUIRE_BACKEND(backend());
    const int32_t head_dim = shape().n_embd / shape().n_head;
    for (bool neox : {true, false}) {
        for (int32_t first_position : {0, 5000}) {
            for (int32_t n_rot : {head_dim, head_dim / 2}) {
                Fixture fixture(shape(), n_vocab(), shape().n_tokens, 31);
                fixture.model.hparams().rope_neox = neox;
                fixture.model.hparams().n_rot = n_rot;
                const int64_t n_embd = shape().n_embd, n_embd_kv = shape().n_embd_kv();
                const Weight to_q = fixture.model.place_projection(
                    fixture.model.weight(TensorType::F32, n_embd, n_embd, selection(n_embd, n_embd, 0)));
                const Weight to_k = fixture.model.place_projection(fixture.model.weight(
                    TensorType::F32, n_embd_kv, n_embd, selection(n_embd_kv, n_embd, n_embd - n_embd_kv)));
                OpRunner runner(fixture.model.model(), backend(), shape().n_tokens, {});
                const std::vector<int32_t> tokens = iota(0, shape().n_tokens);
                std::vector<int32_t> positions;
                for (int32_t t = 0; t < shape().n_tokens; ++t) positions.push_back(first_position + 3 * t);
                const auto &embedding = fixture.model.model().weights.token_embd;
                const Rows actual_q = runner.run(
                    tokens, positions, 0,
                    [&](bitnet::Ops &ops) {
                        ops.embed(embedding);
                        ops.project(to_q, Act::Residual, Act::Q);
                        ops.rope(Act::Q, shape().n_head);
                    },
                    fixture.reader_embd, Act::Q, n_embd);
                const Rows actual_k = runner.run(
                    tokens, positions, 0,
                    [&](bitnet::Ops &ops) {
                        ops.embed(embedding);
                        ops.project(to_k, Act::Residual, Act::K);
                        ops.rope(Act::K, shape().n_head_kv);
                    },
                    fixture.reader_kv, Act::K, n_embd_kv);
                bitnet_reference::HyperParameters reference_hp;
                reference_hp.head_dim = n_embd / shape().n_head;
                reference_hp.n_rot = n_rot;
                reference_hp.rope_base = 10000.0;
                reference_hp.rope_style =
                    neox ? bitnet_reference::RopeStyle::Neox : bitnet_reference::RopeStyle::Adjacent;
                Rows expected_q = as_rows(fixture.inputs, shape().n_tokens, n_embd), expected_k;
                for (int32_t t = 0; t < shape().n_tokens; ++t) {
                    std::vector<double> &q = expected_q[static_cast<size_t>(t)];
                    expected_k.emplace_back(q.end() - n_embd_kv, q.end());
                    bitnet_reference::apply_rope(q, shape().n_head, reference_hp, positions[static_cast<size_t>(t)]);
                    bitnet_reference::apply_rope(expected_k.back(), shape().n_head_kv, reference_hp,
                                                 positions[static_cast<size_t>(t)]);
                }
                // Two products and a sum per value, with cos and sin rounded to float: a few 1e-8 of the
                // scale (the angle itself is computed in double at every position).
                const std::string what = std::string("rope ") + (neox ? "neox" : "adjacent") + " from position " +
                                         std::to_string(first_position) + ", n_rot " + std::to_string(n_rot);
                EXPECT_CLOSE(actual_q, expected_q, 1e-6, label(what + ", Q"));
                EXPECT_CLOSE(actual_k, expected_k, 1e-6, label(what + ", K"));
            }
        }
    }
}

// attention(): a first decode stores its keys and values, a second one attends over both
// decodes' cells (causal, GQA), with an F32 and an F16 cache.
TEST_P(BackendOps, AttentionWithKvStoreMatchesDefinition) {
    REQUIRE_BACKEND(backend());
    for (bitnet_kv_type kv_type : {BITNET_KV_F32, BITNET_KV_F16}) {
        const int32_t n_first = 4, n_second = shape().n_tokens;
        Fixture fixture(shape(), n_vocab(), n_first + n_second, 41);
        const int64_t n_embd = shape().n_embd, n_embd_kv = shape().n_embd_kv();
        // Q = x, K = the first n_embd_kv values of x, V = the last ones: exact copies.
        const Weight to_q = fixture.model.place_projection(
            fixture.model.weight(TensorType::F32, n_embd, n_embd, selection(n_embd, n_embd, 0)));
        const Weight to_k = fixture.model.place_projection(
            fixture.model.weight(TensorType::F32, n_embd_kv, n_embd, selection(n_embd_kv, n_embd, 0)));
        const Weight to_v = fixture.model.place_projection(
            fixture.model.weight(TensorType::F32, n_embd_kv, n_embd, selection(n_embd_kv, n_embd, n_embd - n_embd_kv)));
        RunSettings settings;
        settings.kv_type = kv_type;
        OpRunner runner(fixture.model.model(), backend(), std::max(n_first, n_second), settings);
        const auto &embedding = fixture.model.model().weights.token_embd;
        auto attend = [&](bitnet::Ops &ops) {
            ops.embed(embedding);
            ops.project(to_q, Act::Residual, Act::Q);
            ops.project(to_k, Act::Residual, Act::K);
            ops.project(to_v, Act::Residual, Act::V);
            ops.attention(0);
        };
        // Positions with a gap, so attention must follow the cells' positions, not their indices.
        std::vector<int32_t> positions_first = {0, 1, 2, 5}, positions_second;
        for (int32_t t = 0; t < n_second; ++t) positions_second.push_back(6 + t);
        const Rows actual_first =
            runner.run(iota(0, n_first), positions_first, 0, attend, fixture.reader_embd, Act::Attention, n_embd);
        const Rows actual_second = runner.run(iota(n_first, n_second), positions_second, n_first, attend,
                                              fixture.reader_embd, Act::Attention, n_embd);

        const bitnet::HyperParams &hp = fixture.model.model().hparams;
        const Rows x = as_rows(fixture.inputs, n_first + n_second, n_embd);
        Rows keys, values;
        std::vector<int32_t> positions = positions_first;
        positions.insert(positions.end(), positions_second.begin(), positions_second.end());
        for (const std::vector<double> &row : x) {
            keys.emplace_back(row.begin(), row.begin() + n_embd_kv);
            values.emplace_back(row.end() - n_embd_kv, row.end());
            if (kv_type == BITNET_KV_F16) {
                for (double &value : keys.back()) value = bitnet_reference::round_to_half(value);
                for (double &value : values.back()) value = bitnet_reference::round_to_half(value);
            }
        }
        Rows expected_first, expected_second;
        for (size_t t = 0; t < x.size(); ++t) {
            // The first decode sees only its own cells; the second sees all of them.
            const size_t visible = t < static_cast<size_t>(n_first) ? n_first : x.size();
            const Rows cached_keys(keys.begin(), keys.begin() + static_cast<int64_t>(visible));
            const Rows cached_values(values.begin(), values.begin() + static_cast<int64_t>(visible));
            (t < static_cast<size_t>(n_first) ? expected_first : expected_second)
                .push_back(attention(x[t], positions[t], cached_keys, cached_values, positions, hp));
        }
        // Float dots of head_dim terms, a float softmax (exp) and a float weighted sum of up to 11
        // rows: a few 1e-7 of the scale.
        const std::string what = std::string("attention, KV ") + (kv_type == BITNET_KV_F16 ? "f16" : "f32");
        EXPECT_CLOSE(actual_first, expected_first, 1e-5, label(what + ", first decode"));
        EXPECT_CLOSE(actual_second, expected_second, 1e-5, label(what + ", second decode over both"));
    }
}

// gated_activation(): Gate = act(Gate) * Up, SiLU and ReLU².
TEST_P(BackendOps, GatedActivationMatchesDefinition) {
    REQUIRE_BACKEND(backend());
    Fixture fixture(shape(), n_vocab(), shape().n_tokens, 51);
    std::mt19937_64 random(52);
    const uint64_t n_embd = static_cast<uint64_t>(shape().n_embd), n_ff = static_cast<uint64_t>(shape().n_ff);
    const Weight to_gate = fixture.model.place_projection(
        fixture.model.weight(TensorType::F32, n_ff, n_embd, random_values(n_ff * n_embd, random)));
    const Weight to_up = fixture.model.place_projection(
        fixture.model.weight(TensorType::F32, n_ff, n_embd, random_values(n_ff * n_embd, random)));
    OpRunner runner(fixture.model.model(), backend(), shape().n_tokens, {});
    const std::vector<int32_t> tokens = iota(0, shape().n_tokens);
    const auto &embedding = fixture.model.model().weights.token_embd;
    auto inputs = [&](bitnet::Ops &ops) {
        ops.embed(embedding);
        ops.project(to_gate, Act::Residual, Act::Gate);
        ops.project(to_up, Act::Residual, Act::Up);
    };
    const Rows gate = runner.run(tokens, tokens, 0, inputs, fixture.reader_ff, Act::Gate, shape().n_ff);
    const Rows up = runner.run(tokens, tokens, 0, inputs, fixture.reader_ff, Act::Up, shape().n_ff);
    for (bitnet::FfnActivation kind : {bitnet::FfnActivation::Silu, bitnet::FfnActivation::ReluSquared}) {
        const Rows actual = runner.run(
            tokens, tokens, 0,
            [&](bitnet::Ops &ops) {
                inputs(ops);
                ops.gated_activation(kind);
            },
            fixture.reader_ff, Act::Gate, shape().n_ff);
        Rows expected;
        for (size_t t = 0; t < gate.size(); ++t) expected.push_back(activation(kind, gate[t], up[t]));
        // Element by element: a float exp (or square) and two products, a few roundings.
        EXPECT_CLOSE(actual, expected, 1e-6,
                     label(kind == bitnet::FfnActivation::Silu ? "gated silu" : "gated relu^2"));
    }
}

// add(): into += from, one float rounding of the exact sum.
TEST_P(BackendOps, AddIsOneFloatRounding) {
    REQUIRE_BACKEND(backend());
    Fixture fixture(shape(), n_vocab(), shape().n_tokens, 61);
    std::mt19937_64 random(62);
    const uint64_t n_embd = static_cast<uint64_t>(shape().n_embd);
    const Weight to_projected = fixture.model.place_projection(
        fixture.model.weight(TensorType::F32, n_embd, n_embd, random_values(n_embd * n_embd, random)));
    OpRunner runner(fixture.model.model(), backend(), shape().n_tokens, {});
    const std::vector<int32_t> tokens = iota(0, shape().n_tokens);
    const auto &embedding = fixture.model.model().weights.token_embd;
    auto inputs = [&](bitnet::Ops &ops) {
        ops.embed(embedding);
        ops.project(to_projected, Act::Residual, Act::Projected);
    };
    const Rows projected = runner.run(tokens, tokens, 0, inputs, fixture.reader_embd, Act::Projected, shape().n_embd);
    const Rows actual = runner.run(
        tokens, tokens, 0,
        [&](bitnet::Ops &ops) {
            inputs(ops);
            ops.add(Act::Residual, Act::Projected);
        },
        fixture.reader_embd, Act::Residual, shape().n_embd);
    Rows expected = as_rows(fixture.inputs, shape().n_tokens, shape().n_embd);
    for (size_t t = 0; t < expected.size(); ++t) {
        for (size_t i = 0; i < expected[t].size(); ++i) {
            expected[t][i] = static_cast<float>(expected[t][i] + projected[t][i]);  // exact sum, rounded once
        }
    }
    EXPECT_EXACT(actual, expected, label("add"));
}

// The lm_head's int8 activations (kernels.h, quantize_head_activations), from their definition:
// per block of 32 values, amax = max |x|, codes = round_half_even(x * (127 / amax)) computed in
// float, value = code * (amax / 127); a zero block stays zero.
std::vector<double> head_activations(const std::vector<double> &x) {
    std::vector<double> out(x.size(), 0.0);
    for (size_t first = 0; first + 32 <= x.size(); first += 32) {
        float amax = 0.0f;
        for (size_t i = first; i < first + 32; ++i) amax = std::max(amax, std::fabs(static_cast<float>(x[i])));
        if (amax == 0.0f) continue;
        const float inverse = 127.0f / amax, scale = amax / 127.0f;
        for (size_t i = first; i < first + 32; ++i) {
            out[i] = std::nearbyint(static_cast<float>(x[i]) * inverse) * static_cast<double>(scale);
        }
    }
    return out;
}

// output(): logits = lm_head . normed for every head type the loader can produce. Q6_K needs
// rows of whole 256-blocks, so it runs with n_embd 256 (the others with the shape's n_embd). On the
// CPU a Q8_0, Q6_K or Q4_0 head multiplies int8 activations unless activations stay in float
// (issue 17); Vulkan keeps every head in float.
TEST_P(BackendOps, OutputMatchesDefinitionForEveryHeadType) {
    REQUIRE_BACKEND(backend());
    const TensorType heads[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                TensorType::Q8_0, TensorType::Q6_K, TensorType::Q4_0};
    for (const bool quantize_activations : {true, false}) {
        for (TensorType type : heads) {
            Shape head_shape = shape();
            if (shape().n_embd % block_elements(type) != 0)
                head_shape.n_embd = static_cast<int32_t>(round_up(head_shape.n_embd, 256));
            head_shape.n_head = head_shape.n_embd / 16;
            head_shape.n_head_kv = head_shape.n_head;
            const int32_t n_vocab = 67;  // odd: a partial last workgroup of rows
            TestModel model(head_shape, n_vocab);
            std::mt19937_64 random(71);
            const std::vector<float> inputs =
                random_values(static_cast<size_t>(head_shape.n_tokens) * head_shape.n_embd, random);
            const Weight embedding = model.weight(TensorType::F32, static_cast<uint64_t>(head_shape.n_tokens),
                                                  static_cast<uint64_t>(head_shape.n_embd), inputs);
            model.set_token_embedding(embedding);
            const Weight lm_head =
                model.weight(type, static_cast<uint64_t>(n_vocab), static_cast<uint64_t>(head_shape.n_embd),
                             random_values(static_cast<size_t>(n_vocab) * head_shape.n_embd, random));
            model.set_lm_head(lm_head);
            // One layer, so that the KV cache and the backends' per-layer state are not empty.
            model.place_projection(model.weight(TensorType::F32, 1, static_cast<uint64_t>(head_shape.n_embd),
                                                std::vector<float>(static_cast<size_t>(head_shape.n_embd), 0.0f)));
            RunSettings settings;
            settings.quantize_activations = quantize_activations;
            OpRunner runner(model.model(), backend(), head_shape.n_tokens, settings);
            const std::vector<int32_t> tokens = iota(0, head_shape.n_tokens);
            const Rows actual = runner.run(
                tokens, tokens, 0, [&](bitnet::Ops &ops) { ops.embed(embedding); }, lm_head, Act::Residual, n_vocab);
            const bool int8_head = backend() == BackendKind::Cpu && quantize_activations &&
                                   (type == TensorType::Q8_0 || type == TensorType::Q6_K || type == TensorType::Q4_0);
            Rows expected;
            for (const std::vector<double> &x : as_rows(inputs, head_shape.n_tokens, head_shape.n_embd)) {
                expected.push_back(dense_product(lm_head, int8_head ? head_activations(x) : x));
            }
            // A float dot of n_embd terms against rows decoded exactly (int8 head: exact integer dots,
            // float sums over 32-element groups).
            EXPECT_CLOSE(actual, expected, 1e-5,
                         label(std::string("output, lm_head ") + bitnet::tensor_type_name(type) +
                               (int8_head ? ", int8 activations" : "")));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, BackendOps, testing::ValuesIn(all_cases()), case_name);

}  // namespace
