// The trainer's backward pass (tools/train/transformer.cpp) against central finite differences of
// its own loss in double precision, and the straight-through estimator of BitLinear against the
// definition: with quantization on, the gradients are those of the float layer evaluated at the
// quantized weights and activations.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "train/layer_ops.h"
#include "train/transformer.h"

namespace {

using bitnet::train::ModelShape;
using bitnet::train::ParameterLayout;
using bitnet::train::Transformer;

ModelShape micro_shape() {
    ModelShape shape;
    shape.n_vocab = 11, shape.n_embd = 8, shape.n_layer = 2, shape.n_head = 4, shape.n_head_kv = 2;
    shape.n_ff = 12, shape.n_ctx = 5, shape.rope_freq_base = 100.0f;
    return shape;
}

std::vector<double> random_parameters(const ParameterLayout &layout, uint32_t seed) {
    std::mt19937 random(seed);
    std::normal_distribution<double> normal(0.0, 0.5);
    std::vector<double> parameters(layout.total);
    for (const auto *view : layout.all()) {
        const bool norm = view->rows == 1;
        for (uint64_t i = 0; i < view->size(); ++i) parameters[view->offset + i] = (norm ? 1.0 : 0.0) + normal(random);
    }
    return parameters;
}

TEST(TrainGradients, EveryParameterMatchesCentralDifferencesInFloatMode) {
    bitnet::train::set_training_threads(1);  // thread start-up would dominate these tiny products
    const ModelShape shape = micro_shape();
    Transformer<double> model(shape);
    std::vector<double> parameters = random_parameters(model.layout(), 7);
    const int n_seq = 2, seq_len = 5;
    const std::vector<int32_t> tokens = {1, 4, 9, 2, 2, 0, 10, 3, 7, 5};
    const std::vector<int32_t> targets = {4, 9, 2, 2, 6, 10, 3, 7, 5, 1};
    std::vector<double> gradients(model.layout().total);
    model.loss(parameters.data(), tokens.data(), targets.data(), n_seq, seq_len, false, gradients.data());

    const double step = 1e-5;
    int checked = 0;
    double worst = 0.0;
    for (const auto *view : model.layout().all()) {
        for (uint64_t i = 0; i < view->size(); ++i) {
            double &value = parameters[view->offset + i];
            const double saved = value;
            value = saved + step;
            const double up = model.loss(parameters.data(), tokens.data(), targets.data(), n_seq, seq_len, false, nullptr);
            value = saved - step;
            const double down = model.loss(parameters.data(), tokens.data(), targets.data(), n_seq, seq_len, false, nullptr);
            value = saved;
            const double numeric = (up - down) / (2 * step);
            const double analytic = gradients[view->offset + i];
            // Relative error with an absolute floor of 1e-9 for gradients that are zero (embedding
            // rows of tokens absent from the batch) or nearly so, where the difference quotient's
            // own rounding error (~1e-11) dominates.
            const double error = std::fabs(analytic - numeric) / std::max(std::fabs(analytic) + std::fabs(numeric), 1e-6);
            worst = std::max(worst, error);
            EXPECT_LE(error, 1e-3) << view->name << "[" << i << "]: analytic " << analytic << ", numeric " << numeric;
            ++checked;
        }
    }
    EXPECT_EQ(checked, static_cast<int>(model.layout().total));
    std::printf("checked %d parameters, worst relative error %.3g\n", checked, worst);
}

TEST(TrainGradients, StraightThroughEstimatorIsTheFloatGradientAtTheQuantizedPoint) {
    const int n = 3, in = 16, out = 5;
    std::mt19937 random(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> x(n * in), w(out * in), upstream(n * out);
    for (double &v : x) v = normal(random);
    for (double &v : w) v = normal(random);
    for (double &v : upstream) v = normal(random);

    // Quantized layer, the trainer's backward: dW = dy^T Q_a(x), dx = dy Q_w(W).
    std::vector<double> xq(x.size()), wq(w.size()), dx(x.size()), dw(w.size(), 0.0);
    bitnet::train::bitlinear_input(x.data(), n, in, true, xq.data());
    bitnet::train::ternarize(w.data(), w.size(), wq.data());
    bitnet::train::bitlinear_backward(xq.data(), wq.data(), upstream.data(), n, in, out, dx.data(), dw.data(), false);

    // The float layer L(x', W') = sum(upstream * x' W'^T) differentiated numerically at
    // x' = Q_a(x), W' = Q_w(W): the straight-through definition, computed without the trainer.
    auto float_loss = [&](const std::vector<double> &xs, const std::vector<double> &ws) {
        double total = 0.0;
        for (int r = 0; r < n; ++r)
            for (int o = 0; o < out; ++o) {
                double y = 0.0;
                for (int i = 0; i < in; ++i) y += xs[r * in + i] * ws[o * in + i];
                total += upstream[r * out + o] * y;
            }
        return total;
    };
    const double step = 1e-4;
    for (size_t i = 0; i < w.size(); ++i) {
        std::vector<double> up = wq, down = wq;
        up[i] += step, down[i] -= step;
        EXPECT_NEAR(dw[i], (float_loss(xq, up) - float_loss(xq, down)) / (2 * step), 1e-8) << "dW[" << i << "]";
    }
    for (size_t i = 0; i < x.size(); ++i) {
        std::vector<double> up = xq, down = xq;
        up[i] += step, down[i] -= step;
        EXPECT_NEAR(dx[i], (float_loss(up, wq) - float_loss(down, wq)) / (2 * step), 1e-8) << "dx[" << i << "]";
    }
    // And the quantized point really is ternary and int8: the test would be vacuous otherwise.
    const double scale = std::fabs(*std::max_element(wq.begin(), wq.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); }));
    for (double v : wq) EXPECT_TRUE(v == 0.0 || std::fabs(std::fabs(v) - scale) < 1e-12);
    EXPECT_NE(xq, x);
}

}  // namespace
