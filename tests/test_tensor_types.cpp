// The tensor-type table (lib/tensor/tensor_type.cpp): every row is consistent with itself, with the
// block layouts of formats.md §1.6/§2.1 and with the kernels and shaders keyed by it, so a new row
// that forgets a piece fails here rather than in a forward pass.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tensor/quantize.h"
#include "tensor/tensor_type.h"

namespace {

using bitnet::ScaleRule;
using bitnet::TensorType;
using bitnet::TensorTypeTraits;
using bitnet::TernaryLayout;

std::vector<TensorTypeTraits> all_types() {
    size_t count = 0;
    const TensorTypeTraits *rows = bitnet::all_tensor_types(&count);
    return {rows, rows + count};
}

TEST(TensorTypes, EveryRowIsFoundByItsIdAndName) {
    std::set<std::string> names;
    for (const TensorTypeTraits &row : all_types()) {
        EXPECT_EQ(&bitnet::tensor_type_traits(row.type), &bitnet::tensor_type_traits(row.type));
        EXPECT_EQ(bitnet::tensor_type_traits(row.type).name, std::string(row.name));
        ASSERT_TRUE(bitnet::tensor_type_from_name(row.name).has_value()) << row.name;
        EXPECT_EQ(*bitnet::tensor_type_from_name(row.name), row.type) << row.name;
        EXPECT_TRUE(names.insert(row.name).second) << "duplicate name " << row.name;
    }
    EXPECT_FALSE(bitnet::tensor_type_from_name("iq2_xxs").has_value());
}

// The geometry of formats.md §1.6 (ggml-common.h static_asserts) and §2.1 (I2_S), written out here
// independently of the table.
TEST(TensorTypes, GeometryMatchesTheFormatSpecification) {
    struct Expected {
        TensorType type;
        uint32_t elements, bytes, tail;
    };
    const Expected expected[] = {
        {TensorType::F32, 1, 4, 0},      {TensorType::F16, 1, 2, 0},      {TensorType::BF16, 1, 2, 0},
        {TensorType::Q4_0, 32, 18, 0},   {TensorType::Q8_0, 32, 34, 0},   {TensorType::Q6_K, 256, 210, 0},
        {TensorType::TQ1_0, 256, 54, 0}, {TensorType::TQ2_0, 256, 66, 0}, {TensorType::I2_S, 128, 32, 32},
        // The quantizer fallback types (ggml-common.h static_asserts: sizeof(block_q4_1) = 2 * 2 +
        // 16, block_q5_0 = 2 + 4 + 16, block_q5_1 = 2 * 2 + 4 + 16, block_q2_K = 2 * 2 + 16 + 64,
        // block_q3_K = 2 + 32 + 64 + 12, block_q4_K = 2 * 2 + 12 + 128, block_q5_K = 2 * 2 + 12 +
        // 32 + 128, block_iq4_nl = 2 + 16).
        {TensorType::Q4_1, 32, 20, 0},   {TensorType::Q5_0, 32, 22, 0},   {TensorType::Q5_1, 32, 24, 0},
        {TensorType::Q2_K, 256, 84, 0},  {TensorType::Q3_K, 256, 110, 0}, {TensorType::Q4_K, 256, 144, 0},
        {TensorType::Q5_K, 256, 176, 0}, {TensorType::IQ4_NL, 32, 18, 0},
    };
    EXPECT_EQ(all_types().size(), sizeof expected / sizeof expected[0]) << "a new type needs a line here";
    for (const Expected &e : expected) {
        const TensorTypeTraits &row = bitnet::tensor_type_traits(e.type);
        EXPECT_EQ(row.block_elements, e.elements) << row.name;
        EXPECT_EQ(row.block_bytes, e.bytes) << row.name;
        EXPECT_EQ(row.tensor_tail_bytes, e.tail) << row.name;
        uint64_t total = 0;
        ASSERT_TRUE(bitnet::tensor_total_bytes(e.type, 4 * 256, 256, &total));
        EXPECT_EQ(total, 4 * 256 / e.elements * e.bytes + e.tail) << row.name;
    }
}

TEST(TensorTypes, ScaleRulesAndTernaryLayoutsAgree) {
    std::set<TernaryLayout> layouts;
    for (const TensorTypeTraits &row : all_types()) {
        if (row.ternary) {
            EXPECT_LT(static_cast<size_t>(row.ternary_layout), bitnet::kTernaryLayoutCount) << row.name;
            EXPECT_NE(row.scale_rule, ScaleRule::None) << row.name << ": ternary codes need a scale";
            layouts.insert(row.ternary_layout);
        } else {
            EXPECT_EQ(row.ternary_layout, TernaryLayout::Count) << row.name;
        }
        // A per-tensor scale lives in the tail: at least one f32.
        if (row.scale_rule == ScaleRule::PerTensor) EXPECT_GE(row.tensor_tail_bytes, 4u) << row.name;
        else EXPECT_EQ(row.tensor_tail_bytes, 0u) << row.name;
        EXPECT_TRUE(row.data_alignment == 1 || row.data_alignment == 2 || row.data_alignment == 4) << row.name;
        EXPECT_GT(row.shader_units, 0u) << row.name;
        EXPECT_GT(row.shader_span, 0u) << row.name;
    }
    EXPECT_EQ(layouts.size(), bitnet::kTernaryLayoutCount) << "every layout is used by a type";
}

// Each row's codec is a real codec of its type: encode then decode returns ternary values times a
// power-of-two scale, and the tensor-level path adds the per-tensor scale from the tail.
TEST(TensorTypes, EachRowsCodecRoundTripsValuesItRepresentsExactly) {
    std::mt19937 rng(12);
    for (const TensorTypeTraits &row : all_types()) {
        // Decode-only rows (the fallback types) have no encoder: test_fallback_codecs.cpp checks
        // their decoders against hand-built blocks instead.
        if (!row.encode_block) continue;
        const uint64_t cols = 256, rows = 3;
        std::vector<float> values(cols * rows);
        const float scale = 0.25f;
        for (float &v : values) v = static_cast<float>(static_cast<int>(rng() % 3) - 1) * scale;
        // Q4_0 and Q6_K pick their scale from the element of largest magnitude with its sign, whose
        // code is the most negative one: make that element -scale in every sub-block.
        for (uint64_t i = 0; i < values.size(); i += 16) values[i] = -scale;
        uint64_t bytes = 0;
        ASSERT_TRUE(bitnet::tensor_total_bytes(row.type, values.size(), cols, &bytes)) << row.name;
        std::vector<uint8_t> stored(bytes);
        bitnet::quantize_tensor(row.type, values.data(), cols, rows, stored.data());
        std::vector<float> decoded(values.size());
        bitnet::dequantize_rows(row.type, stored.data(), cols, rows, 0, rows, decoded.data());
        // Plain and ternary types hold these values exactly; the Q-types' integer grids are
        // asymmetric ([-8, 7], [-32, 31]) or their f16 scale is rounded, so +scale lands within a
        // grid step of its value.
        const bool exact = row.ternary || row.scale_rule == ScaleRule::None;
        for (size_t i = 0; i < values.size(); ++i) {
            if (exact) ASSERT_EQ(decoded[i], values[i]) << row.name << " element " << i;
            else ASSERT_NEAR(decoded[i], values[i], scale / 8) << row.name << " element " << i;
        }
        if (row.scale_rule == ScaleRule::PerTensor) {
            EXPECT_EQ(bitnet::tensor_scale(row.type, stored.data(), values.size()), scale) << row.name;
            // dequantize_row with scale 1 gives the bare ternary values.
            std::vector<float> bare(cols);
            bitnet::dequantize_row(row.type, stored.data(), cols, 1.0f, bare.data());
            for (uint64_t i = 0; i < cols; ++i) EXPECT_EQ(bare[i] * scale, values[i]) << row.name;
        } else {
            EXPECT_EQ(bitnet::tensor_scale(row.type, stored.data(), values.size()), 1.0f) << row.name;
        }
    }
}

}  // namespace
