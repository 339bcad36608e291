// The CPU backend: the op set over host memory, with the kernels chosen for this CPU and
// OpenMP threads across rows and heads. All memory comes from the context's arena.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/arena.h"
#include "runtime/kv_cache.h"
#include "runtime/backend.h"
#include "util/parallel.h"

namespace bitnet {

struct CpuBackendConfig {
    int32_t n_batch = 0;
    int32_t n_outputs_max = 0;
    int32_t n_threads = 1;
    bool quantize_activations = true;
    bool keep_embeddings = false;
};

class CpuBackend final : public Backend {
public:
    // Lay out (measure or allocate) everything the backend needs in `arena`.
    CpuBackend(const bitnet_model &model, const CpuBackendConfig &config, KvCache &kv, Arena &arena);

    std::string name() const override;
    void set_outputs(const OutputBuffers &outputs) override { outputs_ = outputs; }
    size_t kv_cell_bytes() const override;
    void read_kv_cells(const int32_t *cells, int32_t n_cells, uint8_t *out) override;
    void write_kv_cells(const int32_t *cells, int32_t n_cells, const uint8_t *in) override;
    void rotate_keys(const int32_t *cells, const int32_t *deltas, int32_t n_cells) override;

    void begin(const BatchPlan &plan) override;
    void embed(const Weight &token_embd) override;
    void rms_norm(Act in, const Weight &weight, Act out) override;
    void project(const Weight &weight, Act in, Act out) override;
    void rope(Act buffer, int32_t n_heads) override;
    void attention(int32_t layer) override;
    void gated_activation(FfnActivation activation) override;
    void add(Act into, Act from) override;
    void output(const Weight &lm_head, Act normed) override;
    void end() override {}

private:
    struct Buffer {
        float *data = nullptr;
        int64_t width = 0;  // floats per row
    };
    float *row(Act act, int32_t token) const {
        const Buffer &b = buffers_[static_cast<int>(act)];
        return b.data + static_cast<int64_t>(token) * b.width;
    }
    int64_t width(Act act) const { return buffers_[static_cast<int>(act)].width; }
    void written(Act act) { ++versions_[static_cast<int>(act)]; }
    // Softmax of entry t's scores over the cells it sees among cells[0..n_cells), in an order that
    // does not depend on the other cells (cpu_attention.cpp); returns the total, others get 0.
    float softmax_visible(const BatchPlan &plan, int32_t t, const int32_t *cells, int32_t n_cells,
                          int32_t visible_prefix, float *scores) const;
    static int32_t visible_prefix_length(const BatchPlan &plan, int32_t t, const int32_t *cells, int32_t n_cells);
    // body(t) for every batch entry, on the threads when there are enough entries to share (a
    // single-token decode runs inline, without a parallel region).
    template <class Body>
    void for_each_token(Body &&body) {
        parallel_for(config_.n_threads, plan_->n_tokens, 4, [&](int64_t begin, int64_t end, int) {
            for (int64_t t = begin; t < end; ++t) body(static_cast<int32_t>(t));
        });
    }

    void quantize_input(Act in, int64_t stored_cols);
    void project_ternary_a8(const Weight &weight, Act in, Act out);
    void project_by_rows(const Weight &weight, Act in, Act out);  // float activations
    // out[i * out_stride + r] = (row r of the weight · inputs[i]) * Weight::scale, threads across
    // rows: gemm_float for the types it decodes, else the row-dequantizing path.
    void multiply_float_rows(const Weight &weight, const float *const *inputs, int32_t n_inputs, float *out,
                             int64_t out_stride);
    void store_kv(int32_t layer);
    // The Q8_0/Q4_0/Q6_K lm_head with int8 activations (gemm_head_a8), when activations are
    // quantized at all; false: the float path (multiply_float_rows).
    bool head_runs_a8(const Weight &lm_head) const;
    void output_a8(const Weight &lm_head, Act normed);

    const bitnet_model &model_;
    CpuBackendConfig config_;
    KvCache &kv_;
    // cpu_kernels(), or in the float-activation (analysis) mode float_activation_kernels() of it:
    // float-mode logits that do not depend on the CPU's ISA.
    const KernelTable kernels_;
    OutputBuffers outputs_;
    const BatchPlan *plan_ = nullptr;

    std::array<Buffer, static_cast<int>(Act::Count)> buffers_{};
    std::array<uint64_t, static_cast<int>(Act::Count)> versions_{};

    // int8 activations of one buffer, reused by every projection reading it (q, k, v share one).
    int8_t *quantized_codes_ = nullptr;
    QuantizedRow *quantized_rows_ = nullptr;
    int64_t quantized_stride_ = 0;
    int quantized_source_ = -1;
    uint64_t quantized_version_ = 0;
    int64_t quantized_cols_ = 0;

    int8_t *head_codes_ = nullptr;       // [n_outputs_max][n_embd] int8 activations of the lm_head
    float *head_scales_ = nullptr;       // [n_outputs_max][n_embd / kHeadActBlock]
    HeadActivations *head_rows_ = nullptr;  // [n_outputs_max]
    const float **token_rows_ = nullptr; // [max(n_batch, n_outputs_max)] activation rows for gemm_float
    float *row_scratch_ = nullptr;       // per thread: one dequantized weight row
    int64_t row_scratch_stride_ = 0;
    // Query rows one attention work item handles at most (cpu_attention.cpp).
    static constexpr int32_t kAttentionBlockQueries = 32;
    int32_t *attention_block_starts_ = nullptr;  // [n_batch + 1]: first entry of each attention block, then n_tokens
    // The fixed cost of an attention item (its setup, the cell scan), in cells' worth of work.
    static constexpr int64_t kAttentionItemOverheadCells = 16;
    int64_t *attention_item_costs_ = nullptr;    // [n_batch * n_head + 1]: summed cost of the items before each
    float *score_scratch_ = nullptr;     // per thread: attention scores [block queries][cells]
    int32_t *visible_scratch_ = nullptr; // per thread: the cells one batch entry may attend to
    float *rope_tables_ = nullptr;       // [n_batch + 1][n_rot]: each entry's rotation, then a spare
    bool rope_tables_ready_ = false;     // tables made for the current decode
    double *rope_inv_freq_ = nullptr;    // [n_rot / 2]; double keeps pos * theta exact enough at long range
};

}  // namespace bitnet
