// A8 projections in isolation: the engine's activation quantizer and each ternary projection,
// fed the same input vectors as the double-precision reference, for every kernel variant.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "kernels/kernels.h"
#include "model/model.h"
#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

using bitnet_reference::Projection;

std::vector<float> random_vector(size_t n, uint32_t seed) {
    std::mt19937 random(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(n);
    for (float &v : x) v = normal(random);
    return x;
}

const bitnet::Weight &engine_weight(const bitnet_model &model, int layer, Projection which) {
    const bitnet::LayerWeights &lw = model.weights.layers[static_cast<size_t>(layer)];
    const bitnet::Weight *weights[] = {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.ffn_gate, &lw.ffn_up, &lw.ffn_down};
    return *weights[static_cast<int>(which)];
}

class ProjectionA8 : public ::testing::TestWithParam<const char *> {};

TEST_P(ProjectionA8, CodesAndOutputsMatchTheReference) {
    const std::string path = bitnet_test::synthetic_model("small", GetParam());
    auto model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    auto reference = bitnet_reference::Model::load(path);

    const bitnet::KernelTable *tables[8];
    size_t n_tables = bitnet::available_cpu_kernels(tables, 8);
    ASSERT_GE(n_tables, 1u);
    for (size_t k = 0; k < n_tables; ++k) {
        const bitnet::KernelTable &kernels = *tables[k];
        int boundary_codes = 0, compared_codes = 0, code_mismatches = 0;
        double worst_output = 0.0;
        for (int layer = 0; layer < reference.hparams().n_layer; ++layer) {
            for (int p = 0; p < bitnet_reference::kProjectionCount; ++p) {
                const Projection which = static_cast<Projection>(p);
                const bitnet::Weight &weight = engine_weight(*model, layer, which);
                const int64_t cols = static_cast<int64_t>(weight.cols), stored = static_cast<int64_t>(weight.stored_cols);
                std::vector<float> x = random_vector(static_cast<size_t>(cols), 100 * layer + p);
                // Also exercise an input whose scale puts many values on rounding boundaries.
                if (p == 0) x[0] = 127.0f / 3.0f;

                std::vector<int8_t> codes(static_cast<size_t>(stored));
                bitnet::QuantizedRow row{codes.data(), 0.0f, 0};
                kernels.quantize_activations(x.data(), cols, stored, codes.data(), &row.scale, &row.sum);

                std::vector<double> xd(x.begin(), x.end());
                std::vector<int8_t> reference_codes;
                const double s = bitnet_reference::quantize_activations(xd, &reference_codes);
                for (int64_t i = 0; i < cols; ++i) {
                    const double scaled = xd[i] * s;
                    const bool near_boundary = std::fabs(scaled - std::floor(scaled) - 0.5) < 1e-6 * std::fabs(scaled) + 1e-6;
                    if (near_boundary) {
                        ++boundary_codes;
                        continue;
                    }
                    ++compared_codes;
                    code_mismatches += codes[i] != reference_codes[i];
                }

                std::vector<float> out(weight.rows);
                const auto gemm = kernels.gemm_ternary[static_cast<size_t>(bitnet::ternary_layout_of(weight.type))];
                const float weight_scale =
                    (weight.type == bitnet::TensorType::I2_S ? weight.scale : 1.0f) * weight.output_scale;
                gemm(weight.data, weight.row_bytes(), static_cast<int64_t>(weight.rows), stored, &row, 1, weight_scale,
                     out.data(), static_cast<int64_t>(weight.rows));
                std::vector<double> expected = bitnet_reference::project(reference, layer, which, xd, true);
                double max_abs = 0.0;
                for (double v : expected) max_abs = std::max(max_abs, std::fabs(v));
                for (size_t r = 0; r < expected.size(); ++r) {
                    worst_output = std::max(worst_output, std::fabs(out[r] - expected[r]) / max_abs);
                }
            }
        }
        std::printf("[ %s / %s ] %d codes compared, %d mismatches, %d within 1e-6 of a rounding boundary skipped; "
                    "worst output error %.3g of the largest output\n",
                    GetParam(), kernels.name, compared_codes, code_mismatches, boundary_codes, worst_output);
        EXPECT_EQ(code_mismatches, 0) << kernels.name;
        EXPECT_LE(worst_output, 1e-5) << kernels.name;
    }
}

INSTANTIATE_TEST_SUITE_P(TernaryFormats, ProjectionA8, ::testing::Values("i2_s", "tq2_0", "tq1_0"));

}  // namespace
