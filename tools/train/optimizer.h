// AdamW (Loshchilov & Hutter, arXiv 1711.05101) over the flat parameter vector, with linear
// warmup then cosine decay of the learning rate, and clipping of the global gradient norm.
#pragma once

#include <cstdint>
#include <vector>

#include "train/model_shape.h"

namespace bitnet::train {

struct OptimizerSettings {
    float learning_rate = 2e-3f;
    float min_learning_rate_ratio = 0.1f;  // the cosine decays to this share of the peak
    int64_t warmup_steps = 0;
    int64_t total_steps = 1;
    float beta1 = 0.9f;
    float beta2 = 0.95f;
    float epsilon = 1e-8f;
    float weight_decay = 0.1f;  // decoupled; projections only (not norms or the embedding)
    float clip_norm = 1.0f;     // 0: no clipping
};

// The learning rate of 0-based step `step`.
double learning_rate_at(const OptimizerSettings &settings, int64_t step);

// Scale `gradients` so their global L2 norm is at most clip_norm. Returns the norm before.
double clip_gradients(std::vector<float> &gradients, float clip_norm);

// One AdamW update of 0-based step `step`; m and v are the moment estimates (same size).
void adamw_step(const OptimizerSettings &settings, const ParameterLayout &layout, int64_t step,
                const std::vector<float> &gradients, std::vector<float> &parameters, std::vector<float> &m,
                std::vector<float> &v);

}  // namespace bitnet::train
