#include "train/optimizer.h"

#include <cmath>

namespace bitnet::train {

double learning_rate_at(const OptimizerSettings &s, int64_t step) {
    if (s.warmup_steps > 0 && step < s.warmup_steps) return s.learning_rate * static_cast<double>(step + 1) / s.warmup_steps;
    const int64_t decay_steps = std::max<int64_t>(1, s.total_steps - s.warmup_steps);
    const double progress = std::min(1.0, static_cast<double>(step - s.warmup_steps) / decay_steps);
    const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
    return s.learning_rate * (s.min_learning_rate_ratio + (1.0 - s.min_learning_rate_ratio) * cosine);
}

double clip_gradients(std::vector<float> &gradients, float clip_norm) {
    double sum = 0.0;
    for (float g : gradients) sum += static_cast<double>(g) * g;
    const double norm = std::sqrt(sum);
    if (clip_norm > 0 && norm > clip_norm) {
        const float factor = static_cast<float>(clip_norm / norm);
        for (float &g : gradients) g *= factor;
    }
    return norm;
}

void adamw_step(const OptimizerSettings &s, const ParameterLayout &layout, int64_t step, const std::vector<float> &gradients,
                std::vector<float> &parameters, std::vector<float> &m, std::vector<float> &v) {
    const double lr = learning_rate_at(s, step);
    const double correction1 = 1.0 - std::pow(static_cast<double>(s.beta1), static_cast<double>(step + 1));
    const double correction2 = 1.0 - std::pow(static_cast<double>(s.beta2), static_cast<double>(step + 1));
    const float step_size = static_cast<float>(lr / correction1);
    const float inv_sqrt_correction2 = static_cast<float>(1.0 / std::sqrt(correction2));
    for (const ParameterView *view : layout.all()) {
        const float decay = view->projection ? static_cast<float>(1.0 - lr * s.weight_decay) : 1.0f;
        const uint64_t begin = view->offset, end = view->offset + view->size();
#pragma omp parallel for
        for (uint64_t i = begin; i < end; ++i) {
            m[i] = s.beta1 * m[i] + (1 - s.beta1) * gradients[i];
            v[i] = s.beta2 * v[i] + (1 - s.beta2) * gradients[i] * gradients[i];
            parameters[i] = parameters[i] * decay - step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_correction2 + s.epsilon);
        }
    }
}

}  // namespace bitnet::train
