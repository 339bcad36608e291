#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>

#include "runtime/activation_layout.h"
#include "runtime/rope.h"
#include "tensor/quantize.h"
#include "util/error.h"
#include "util/half.h"
#include "util/parallel.h"

namespace bitnet {

CpuBackend::CpuBackend(const bitnet_model &model, const CpuBackendConfig &config, KvCache &kv, Arena &arena)
    : model_(model), config_(config), kv_(kv), 
      kernels_(config.quantize_activations ? cpu_kernels() : float_activation_kernels(cpu_kernels())) {
    const HyperParams &hp = model.hparams;
    const int64_t n_batch = config.n_batch;
    for (int i = 0; i < static_cast<int>(Act::Count); ++i) {
        buffers_[i].width = activation_width(hp, static_cast<Act>(i));
        buffers_[i].data = arena.allocate<float>(static_cast<size_t>(n_batch * buffers_[i].width));
    }
    quantized_stride_ = widest_projection_input(hp);
    quantized_codes_ = arena.allocate<int8_t>(static_cast<size_t>(n_batch * quantized_stride_));
    quantized_rows_ = arena.allocate<QuantizedRow>(static_cast<size_t>(n_batch));
    const int64_t n_outputs_max = config.n_outputs_max;
    head_codes_ = arena.allocate<int8_t>(static_cast<size_t>(n_outputs_max * hp.n_embd));
    head_scales_ = arena.allocate<float>(static_cast<size_t>(n_outputs_max * (hp.n_embd / kHeadActBlock + 1)));
    head_rows_ = arena.allocate<HeadActivations>(static_cast<size_t>(n_outputs_max));
    token_rows_ = arena.allocate<const float *>(static_cast<size_t>(std::max(n_batch, int64_t{config.n_outputs_max})));
    row_scratch_stride_ = std::max<int64_t>(quantized_stride_, hp.n_embd);
    row_scratch_ = arena.allocate<float>(static_cast<size_t>(config.n_threads * row_scratch_stride_));
    attention_block_starts_ = arena.allocate<int32_t>(static_cast<size_t>(n_batch + 1));
    attention_item_costs_ = arena.allocate<int64_t>(static_cast<size_t>(n_batch * hp.n_head + 1));
    score_scratch_ = arena.allocate<float>(static_cast<size_t>(config.n_threads) * kAttentionBlockQueries * kv.n_ctx());
    visible_scratch_ = arena.allocate<int32_t>(static_cast<size_t>(config.n_threads) * kv.n_ctx());
    rope_tables_ = arena.allocate<float>(static_cast<size_t>((n_batch + 1) * hp.n_rot));
    rope_inv_freq_ = arena.allocate<double>(static_cast<size_t>(hp.n_rot / 2));
    if (rope_inv_freq_) rope_inverse_frequencies(hp, rope_inv_freq_);
}

void CpuBackend::begin(const BatchPlan &plan) {
    plan_ = &plan;
    rope_tables_ready_ = false;
    quantized_source_ = -1;
}

void CpuBackend::embed(const Weight &token_embd) {
    const BatchPlan &plan = *plan_;
    for_each_token([&](int32_t t) {
        dequantize_rows(token_embd.type, token_embd.data, token_embd.stored_cols, token_embd.rows,
                        static_cast<uint64_t>(plan.tokens[t]), 1, row(Act::Residual, t));
    });
    written(Act::Residual);
}

void CpuBackend::rms_norm(Act in, const Weight &weight, Act out) {
    const int64_t n = static_cast<int64_t>(weight.cols);
    const float *gamma = reinterpret_cast<const float *>(weight.data);
    for_each_token([&](int32_t t) { kernels_.rms_norm(row(in, t), gamma, n, model_.hparams.norm_eps, row(out, t)); });
    written(out);
}

void CpuBackend::project(const Weight &weight, Act in, Act out) {
    if (tensor_type_traits(weight.type).ternary && config_.quantize_activations) {
        project_ternary_a8(weight, in, out);
    } else {
        project_by_rows(weight, in, out);
    }
    written(out);
}

void CpuBackend::quantize_input(Act in, int64_t stored_cols) {
    const int source = static_cast<int>(in);
    if (quantized_source_ == source && quantized_version_ == versions_[source] && quantized_cols_ == stored_cols) return;
    const int64_t cols = width(in);
    for_each_token([&](int32_t t) {
        int8_t *codes = quantized_codes_ + t * quantized_stride_;
        QuantizedRow &q = quantized_rows_[t];
        kernels_.quantize_activations(row(in, t), cols, stored_cols, codes, &q.scale, &q.sum);
        q.codes = codes;
    });
    quantized_source_ = source;
    quantized_version_ = versions_[source];
    quantized_cols_ = stored_cols;
}

void CpuBackend::project_ternary_a8(const Weight &weight, Act in, Act out) {
    quantize_input(in, static_cast<int64_t>(weight.stored_cols));
    const auto gemm = kernels_.gemm_ternary[static_cast<size_t>(tensor_type_traits(weight.type).ternary_layout)];
    // Per-block scales are inside the blocks; everything else was folded into weight.scale at load.
    const float weight_scale = weight.scale;
    const size_t row_bytes = weight.row_bytes();
    const int64_t n_cols = static_cast<int64_t>(weight.stored_cols);
    const int32_t n_tokens = plan_->n_tokens;
    float *out_data = row(out, 0);
    const int64_t out_stride = width(out);
    parallel_for(config_.n_threads, static_cast<int64_t>(weight.rows), 16, [&](int64_t begin, int64_t end, int) {
        gemm(weight.data + begin * row_bytes, row_bytes, end - begin, n_cols, quantized_rows_, n_tokens, weight_scale,
             out_data + begin, out_stride);
    });
}

void CpuBackend::project_by_rows(const Weight &weight, Act in, Act out) {
    const int32_t n_tokens = plan_->n_tokens;
    for (int32_t t = 0; t < n_tokens; ++t) token_rows_[t] = row(in, t);
    multiply_float_rows(weight, token_rows_, n_tokens, row(out, 0), width(out));
}

void CpuBackend::multiply_float_rows(const Weight &weight, const float *const *inputs, int32_t n_inputs, float *out,
                                     int64_t out_stride) {
    const size_t row_bytes = weight.row_bytes();
    const int64_t cols = static_cast<int64_t>(weight.stored_cols);
    if (tensor_type_traits(weight.type).float_kernel) {
        // Types gemm_float decodes itself. Row shares in multiples of 64 keep each thread's output
        // in whole cache lines.
        parallel_for(config_.n_threads, static_cast<int64_t>(weight.rows), 64, [&](int64_t begin, int64_t end, int) {
            kernels_.gemm_float(weight.type, weight.data + begin * row_bytes, row_bytes, end - begin, cols, inputs,
                                n_inputs, out + begin, out_stride);
            if (weight.scale == 1.0f) return;
            for (int32_t t = 0; t < n_inputs; ++t) {
                for (int64_t r = begin; r < end; ++r) out[t * out_stride + r] *= weight.scale;
            }
        });
        return;
    }
    // The row-dequantizing path, one for every other type: ternary weights in the float-activation
    // (analysis) mode and the quantizer fallback types (Q4_1, Q5_*, K-quants, IQ4_NL). A row is
    // decoded by its type's block decoder (tensor/quantize.h) into this thread's scratch row, then
    // dotted with every input, so each row is decoded once per call however many tokens there are.
    const ScaledDecode scaling = scaled_decode(weight);
    // The dot covers the logical columns only: the padding (stored_cols > cols for ternary rows
    // padded to a whole block) holds zeros, but the activation rows are only `cols` wide, so a dot
    // over stored_cols read past each row: the next entry's values or, after the last one,
    // uninitialized arena memory, where an inf or NaN times 0 poisoned the sum.
    const int64_t dot_cols = static_cast<int64_t>(weight.cols);
    parallel_for(config_.n_threads, static_cast<int64_t>(weight.rows), 16, [&](int64_t begin, int64_t end, int thread) {
        float *weight_row = row_scratch_ + thread * row_scratch_stride_;
        for (int64_t r = begin; r < end; ++r) {
            dequantize_row(weight.type, weight.data + r * row_bytes, weight.stored_cols, scaling.element_scale,
                           weight_row);
            for (int32_t t = 0; t < n_inputs; ++t) {
                out[t * out_stride + r] = kernels_.dot_f32(weight_row, inputs[t], dot_cols) * scaling.output_scale;
            }
        }
    });
}

void CpuBackend::rope(Act buffer, int32_t n_heads) {
    // Every layer rotates by the same positions: the cos/sin tables are made once per decode.
    const int32_t n_rot = model_.hparams.n_rot;
    if (!rope_tables_ready_) {
        for_each_token([&](int32_t t) {
            rope_rotation_table(model_.hparams, rope_inv_freq_, plan_->positions[t], rope_tables_ + t * n_rot);
        });
        rope_tables_ready_ = true;
    }
    for_each_token([&](int32_t t) { rope_rotate(model_.hparams, row(buffer, t), n_heads, rope_tables_ + t * n_rot); });
    written(buffer);
}

void CpuBackend::store_kv(int32_t layer) {
    const int64_t n = kv_.n_embd_kv();
    for_each_token([&](int32_t t) {
        const int32_t cell = plan_->cells[t];
        const float *k = row(Act::K, t), *v = row(Act::V, t);
        if (kv_.type() == BITNET_KV_F16) {
            uint16_t *k_out = reinterpret_cast<uint16_t *>(kv_.key_row(layer, cell));
            uint16_t *v_out = reinterpret_cast<uint16_t *>(kv_.value_row(layer, cell));
            for (int64_t i = 0; i < n; ++i) {
                k_out[i] = float_to_half(k[i]);
                v_out[i] = float_to_half(v[i]);
            }
        } else {
            std::memcpy(kv_.key_row(layer, cell), k, n * sizeof(float));
            std::memcpy(kv_.value_row(layer, cell), v, n * sizeof(float));
        }
    });
}

void CpuBackend::gated_activation(FfnActivation activation) {
    const int64_t n = width(Act::Gate);
    const bool relu_squared = activation == FfnActivation::ReluSquared;
    for_each_token([&](int32_t t) { kernels_.gated_activation(row(Act::Gate, t), row(Act::Up, t), n, relu_squared); });
    written(Act::Gate);
}

void CpuBackend::add(Act into, Act from) {
    const int64_t n = width(into);
    for_each_token([&](int32_t t) {
        float *a = row(into, t);
        const float *b = row(from, t);
        for (int64_t i = 0; i < n; ++i) a[i] += b[i];
    });
    written(into);
}

void CpuBackend::output(const Weight &lm_head, Act normed) {
    const BatchPlan &plan = *plan_;
    const int64_t n_embd = model_.hparams.n_embd;
    if (outputs_.embeddings) {
        for (int32_t o = 0; o < plan.n_outputs; ++o) {
            std::memcpy(outputs_.embeddings + o * n_embd, row(normed, plan.output_entries[o]), n_embd * sizeof(float));
        }
    }
    if (plan.n_outputs == 0) return;
    if (head_runs_a8(lm_head)) return output_a8(lm_head, normed);
    for (int32_t o = 0; o < plan.n_outputs; ++o) token_rows_[o] = row(normed, plan.output_entries[o]);
    const int64_t n_vocab = static_cast<int64_t>(lm_head.rows);
    multiply_float_rows(lm_head, token_rows_, plan.n_outputs, outputs_.logits, n_vocab);
}

bool CpuBackend::head_runs_a8(const Weight &lm_head) const {
    // int8 activations follow the projections' mode: --no-act-quant (analysis) keeps the head in
    // float too. The KL divergence this costs is in bench/RESULTS.md.
    if (!config_.quantize_activations) return false;
    if (lm_head.type != TensorType::Q8_0 && lm_head.type != TensorType::Q4_0 && lm_head.type != TensorType::Q6_K) {
        return false;
    }
    return static_cast<int64_t>(lm_head.stored_cols) == model_.hparams.n_embd && model_.hparams.n_embd % kHeadActBlock == 0;
}

void CpuBackend::output_a8(const Weight &lm_head, Act normed) {
    const BatchPlan &plan = *plan_;
    const int64_t n_embd = model_.hparams.n_embd;
    const int64_t scales_per_row = n_embd / kHeadActBlock;
    // Each output row is quantized once, by one thread, the same way whatever else is in the batch.
    parallel_for(config_.n_threads, plan.n_outputs, 4, [&](int64_t begin, int64_t end, int) {
        for (int64_t o = begin; o < end; ++o) {
            int8_t *codes = head_codes_ + o * n_embd;
            float *scales = head_scales_ + o * scales_per_row;
            quantize_head_activations(row(normed, plan.output_entries[o]), n_embd, codes, scales);
            head_rows_[o] = HeadActivations{codes, scales};
        }
    });
    const int64_t n_vocab = static_cast<int64_t>(lm_head.rows);
    const size_t row_bytes = lm_head.row_bytes();
    float *logits = outputs_.logits;
    parallel_for(config_.n_threads, n_vocab, 64, [&](int64_t begin, int64_t end, int) {
        kernels_.gemm_head_a8(lm_head.type, lm_head.data + begin * row_bytes, row_bytes, end - begin, n_embd,
                              head_rows_, plan.n_outputs, logits + begin, n_vocab);
        if (lm_head.scale == 1.0f) return;
        for (int32_t o = 0; o < plan.n_outputs; ++o) {
            for (int64_t r = begin; r < end; ++r) logits[o * n_vocab + r] *= lm_head.scale;
        }
    });
}

}  // namespace bitnet
