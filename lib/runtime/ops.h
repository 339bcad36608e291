// The op set every compute backend implements (CPU now, Vulkan later). An architecture's forward
// pass is written once against it (runtime/forward.cpp). Ops name activation buffers rather than
// pass pointers, so a backend can keep them wherever it computes (host memory, GPU memory) and
// may record the ops instead of running them immediately.
#pragma once

#include <cstdint>

#include "model/model.h"
#include "runtime/batch_plan.h"

namespace bitnet {

// Activation buffers, each holding one row per batch entry.
enum class Act : int {
    Residual,  // [n_embd] the residual stream
    Normed,    // [n_embd] a norm's output
    Q,         // [n_embd] queries
    K,         // [n_embd_kv] keys
    V,         // [n_embd_kv] values
    Attention, // [n_embd] attention output, then its sub-norm
    Gate,      // [n_ff] gate projection, then act(gate) * up, then its sub-norm
    Up,        // [n_ff] up projection
    Projected, // [n_embd] an output projection before it joins the residual
    Count
};

class Ops {
public:
    virtual ~Ops() = default;

    // Called once per decode with the validated plan, before any other op.
    virtual void begin(const BatchPlan &plan) = 0;
    // Residual = embedding rows of the batch's tokens.
    virtual void embed(const Weight &token_embd) = 0;
    // out = in / rms(in) * weight, per row (width = weight.cols).
    virtual void rms_norm(Act in, const Weight &weight, Act out) = 0;
    // out = weight · in per row. Ternary weights run as BitLinear with int8 activations (or with
    // float activations in analysis mode); float weights run as float projections.
    virtual void project(const Weight &weight, Act in, Act out) = 0;
    // NEOX rotary embedding of the batch positions, in place, on heads of head_dim values.
    virtual void rope(Act buffer, int32_t n_heads) = 0;
    // Store K and V of the batch in the layer's KV cells, then Attention = causal GQA attention
    // of Q over every cell the plan's view lets each entry see.
    virtual void attention(int32_t layer) = 0;
    // Gate = act(Gate) * Up.
    virtual void gated_activation(FfnActivation activation) = 0;
    // into += from.
    virtual void add(Act into, Act from) = 0;
    // Logits (and, if kept, the hidden state) of the plan's output entries from `normed`.
    virtual void output(const Weight &lm_head, Act normed) = 0;
    // Finish any recorded work; throws Error(BITNET_ERR_BACKEND) on failure.
    virtual void end() = 0;
};

}  // namespace bitnet
