// The decoders of the quantizer fallback types (lib/tensor/fallback_codecs.cpp) against values
// worked out by hand from the format definitions: each block below is assembled byte by byte from
// the ggml block layout (formats.md §1.6, "Fallback types"; ggml-common.h block_* structs,
// ggml-quants.c dequantize_row_*), and the expected elements are computed in the comments next to
// them, not by any code of the engine.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tensor/quantize.h"
#include "tensor/tensor_type.h"
#include "util/error.h"

namespace {

using bitnet::TensorType;

// f16 bit patterns of the scales used below.
constexpr uint16_t kHalfQuarter = 0x3400;  // 0.25
constexpr uint16_t kHalfHalf = 0x3800;     // 0.5
constexpr uint16_t kHalfOne = 0x3C00;      // 1.0
constexpr uint16_t kHalfMinusOne = 0xBC00; // -1.0

void put_f16(std::vector<uint8_t> &block, size_t at, uint16_t bits) {
    block[at] = static_cast<uint8_t>(bits & 0xff);
    block[at + 1] = static_cast<uint8_t>(bits >> 8);
}

void put_u32(std::vector<uint8_t> &block, size_t at, uint32_t bits) {
    for (int i = 0; i < 4; ++i) block[at + i] = static_cast<uint8_t>(bits >> (8 * i));
}

// The block decoded twice: by the type's traits row and through dequantize_row (the path the
// backends use); both must agree exactly.
std::vector<float> decode(TensorType type, const std::vector<uint8_t> &block) {
    const bitnet::TensorTypeTraits &traits = bitnet::tensor_type_traits(type);
    EXPECT_EQ(block.size(), traits.block_bytes) << traits.name;
    std::vector<float> by_row(traits.block_elements), by_block(traits.block_elements);
    traits.decode_block(block.data(), by_block.data());
    bitnet::dequantize_row(type, block.data(), traits.block_elements, 1.0f, by_row.data());
    EXPECT_EQ(by_block, by_row) << traits.name;
    return by_row;
}

TEST(FallbackCodecs, Q4_1) {
    // d = 0.5 @0, m = -1 @2, qs[j] @4 = j | (15 - j) << 4: x[j] = 0.5 j - 1, x[j+16] = 0.5 (15 - j) - 1.
    std::vector<uint8_t> block(20);
    put_f16(block, 0, kHalfHalf);
    put_f16(block, 2, kHalfMinusOne);
    for (int j = 0; j < 16; ++j) block[4 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const std::vector<float> y = decode(TensorType::Q4_1, block);
    EXPECT_EQ(y[0], -1.0f);
    EXPECT_EQ(y[3], 0.5f);
    EXPECT_EQ(y[15], 6.5f);
    EXPECT_EQ(y[16], 6.5f);
    EXPECT_EQ(y[31], -1.0f);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], 0.5f * j - 1.0f) << j;
        EXPECT_EQ(y[j + 16], 0.5f * (15 - j) - 1.0f) << j;
    }
}

TEST(FallbackCodecs, Q5_0) {
    // d = 0.25 @0, qh = 0x80000001 @2 (fifth bit of elements 0 and 31), qs @6 all 0x88 (nibbles 8)
    // except qs[15] = 0xF1. x = (code - 16) * 0.25.
    std::vector<uint8_t> block(22);
    put_f16(block, 0, kHalfQuarter);
    put_u32(block, 2, 0x80000001u);
    for (int j = 0; j < 16; ++j) block[6 + j] = 0x88;
    block[6 + 15] = 0xF1;
    const std::vector<float> y = decode(TensorType::Q5_0, block);
    EXPECT_EQ(y[0], 2.0f);     // (8 + 16 - 16) * 0.25
    EXPECT_EQ(y[1], -2.0f);    // (8 - 16) * 0.25
    EXPECT_EQ(y[15], -3.75f);  // (1 - 16) * 0.25
    EXPECT_EQ(y[16], -2.0f);   // high nibble 8, bit 16 clear
    EXPECT_EQ(y[31], 3.75f);   // (15 + 16 - 16) * 0.25
}

TEST(FallbackCodecs, Q5_1) {
    // d = 1 @0, m = 0.5 @2, qh = 0x00010002 @4 (elements 1 and 16), qs @8 all 0x21. x = code + 0.5.
    std::vector<uint8_t> block(24);
    put_f16(block, 0, kHalfOne);
    put_f16(block, 2, kHalfHalf);
    put_u32(block, 4, 0x00010002u);
    for (int j = 0; j < 16; ++j) block[8 + j] = 0x21;
    const std::vector<float> y = decode(TensorType::Q5_1, block);
    EXPECT_EQ(y[0], 1.5f);
    EXPECT_EQ(y[1], 17.5f);
    EXPECT_EQ(y[16], 18.5f);
    EXPECT_EQ(y[17], 2.5f);
}

TEST(FallbackCodecs, Q2_K) {
    // scales @0: [0] = 0x21 (scale 1, min 2), [1] = 0x03 (scale 3, min 0), the rest 0x12 (scale 2,
    // min 1); qs @16: first half 0xE4 (pass p reads code p), second half 0x1B (pass p: 3 - p);
    // d = 1 @80, dmin = 0.5 @82. x = d * scale * code - dmin * min, sub-block e / 16.
    std::vector<uint8_t> block(84);
    block[0] = 0x21;
    block[1] = 0x03;
    for (int s = 2; s < 16; ++s) block[s] = 0x12;
    for (int l = 0; l < 32; ++l) {
        block[16 + l] = 0xE4;
        block[48 + l] = 0x1B;
    }
    put_f16(block, 80, kHalfOne);
    put_f16(block, 82, kHalfHalf);
    const std::vector<float> y = decode(TensorType::Q2_K, block);
    EXPECT_EQ(y[0], -1.0f);   // 1 * 0 - 0.5 * 2
    EXPECT_EQ(y[16], 0.0f);   // 3 * 0 - 0
    EXPECT_EQ(y[32], 1.5f);   // pass 1: 2 * 1 - 0.5
    EXPECT_EQ(y[100], 5.5f);  // pass 3: 2 * 3 - 0.5
    EXPECT_EQ(y[128], 5.5f);  // second half, pass 0: code 3
    EXPECT_EQ(y[200], 1.5f);  // second half, pass 2: code 1
}

TEST(FallbackCodecs, Q3_K) {
    // hmask @0 all 0x0F: passes 0-3 (first half) have the third bit, passes 4-7 do not (code - 4).
    // qs @32 all 0x1B: pass p (within a half) reads 3 - p. scales @96: bytes 8-11 carry the top two
    // bits (0xAA: 2 everywhere, except byte 9 = 0xA8: scale 1 gets 0); byte 0 = 0x53 (scale 0 low
    // nibble 3, scale 8 low 5), byte 1 = 0x71 (scale 1: 1, scale 9: 7). A scale is (low | top << 4)
    // - 32, so scale 0 = 3, scale 1 = 1 - 32 = -31, scale 8 = 5, scale 9 = 7, scale 10 = 0. d = 0.5.
    std::vector<uint8_t> block(110);
    for (int l = 0; l < 32; ++l) block[l] = 0x0F;
    for (int l = 0; l < 64; ++l) block[32 + l] = 0x1B;
    block[96 + 0] = 0x53;
    block[96 + 1] = 0x71;
    block[96 + 8] = 0xAA;
    block[96 + 9] = 0xA8;
    block[96 + 10] = 0xAA;
    block[96 + 11] = 0xAA;
    put_f16(block, 108, kHalfHalf);
    const std::vector<float> y = decode(TensorType::Q3_K, block);
    EXPECT_EQ(y[0], 4.5f);     // 0.5 * 3 * 3
    EXPECT_EQ(y[16], -46.5f);  // 0.5 * -31 * 3
    EXPECT_EQ(y[128], -2.5f);  // 0.5 * 5 * (3 - 4)
    EXPECT_EQ(y[144], -3.5f);  // 0.5 * 7 * (3 - 4)
    EXPECT_EQ(y[160], 0.0f);   // scale 10 = 0
}

// The 12 scale bytes shared by the Q4_K and Q5_K cases: pair 0 = (scale 2, min 4), pair 1 =
// (3, 2), pair 4 = (1 | 1 << 4 = 17, 3): byte 0 = 0x42 (its top bits 01 are pair 4's scale bits
// 5..4), byte 8 = 0x31 (pair 4: scale nibble 1, min nibble 3); every other pair (0, 0).
void put_k4_scales(std::vector<uint8_t> &block, size_t at) {
    block[at + 0] = 0x42;
    block[at + 1] = 0x03;
    block[at + 4] = 0x04;
    block[at + 5] = 0x02;
    block[at + 8] = 0x31;
}

TEST(FallbackCodecs, Q4_K) {
    // d = 1 @0, dmin = 0.25 @2, scales @4, qs @16: chunk 0 bytes 0x5A (low 10, high 5), chunk 2 0x3C.
    std::vector<uint8_t> block(144);
    put_f16(block, 0, kHalfOne);
    put_f16(block, 2, kHalfQuarter);
    put_k4_scales(block, 4);
    for (int l = 0; l < 32; ++l) {
        block[16 + l] = 0x5A;
        block[16 + 64 + l] = 0x3C;
    }
    const std::vector<float> y = decode(TensorType::Q4_K, block);
    EXPECT_EQ(y[0], 19.0f);     // 2 * 10 - 0.25 * 4
    EXPECT_EQ(y[32], 14.5f);    // 3 * 5 - 0.25 * 2
    EXPECT_EQ(y[64], 0.0f);     // pair 2
    EXPECT_EQ(y[128], 203.25f); // 17 * 12 - 0.25 * 3
    EXPECT_EQ(y[160], 0.0f);    // pair 5
}

TEST(FallbackCodecs, Q5_K) {
    // d = 0.5 @0, dmin = 1 @2, scales @4, qh @16 all 0x13 (bits 0, 1: chunk 0 low and high; bit 4:
    // chunk 2 low), qs @48 as in the Q4_K case. Fifth bit adds 16.
    std::vector<uint8_t> block(176);
    put_f16(block, 0, kHalfHalf);
    put_f16(block, 2, kHalfOne);
    put_k4_scales(block, 4);
    for (int l = 0; l < 32; ++l) {
        block[16 + l] = 0x13;
        block[48 + l] = 0x5A;
        block[48 + 64 + l] = 0x3C;
    }
    const std::vector<float> y = decode(TensorType::Q5_K, block);
    EXPECT_EQ(y[0], 22.0f);    // 0.5 * 2 * 26 - 4
    EXPECT_EQ(y[32], 29.5f);   // 0.5 * 3 * 21 - 2
    EXPECT_EQ(y[128], 235.0f); // 0.5 * 17 * 28 - 3
    EXPECT_EQ(y[160], 0.0f);
}

TEST(FallbackCodecs, IQ4_NL) {
    // d = 0.5 @0, qs[j] @2 = j | (15 - j) << 4; grid kvalues_iq4nl = {-127, -104, -83, -65, -49,
    // -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}.
    std::vector<uint8_t> block(18);
    put_f16(block, 0, kHalfHalf);
    for (int j = 0; j < 16; ++j) block[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const std::vector<float> y = decode(TensorType::IQ4_NL, block);
    EXPECT_EQ(y[0], -63.5f);
    EXPECT_EQ(y[7], -5.0f);
    EXPECT_EQ(y[8], 0.5f);
    EXPECT_EQ(y[15], 56.5f);
    EXPECT_EQ(y[16], 56.5f);
    EXPECT_EQ(y[31], -63.5f);
}

// The fallback types are decode-only: asking to encode one is an error with a message, not a crash.
TEST(FallbackCodecs, EncodingADecodeOnlyTypeIsRefused) {
    for (TensorType type : {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q2_K, TensorType::Q3_K,
                            TensorType::Q4_K, TensorType::Q5_K, TensorType::IQ4_NL}) {
        const bitnet::TensorTypeTraits &traits = bitnet::tensor_type_traits(type);
        EXPECT_EQ(traits.encode_block, nullptr) << traits.name;
        EXPECT_FALSE(traits.float_kernel) << traits.name;
        std::vector<float> values(traits.block_elements, 1.0f);
        std::vector<uint8_t> out(traits.block_bytes);
        try {
            bitnet::quantize_row(type, values.data(), traits.block_elements, out.data());
            ADD_FAILURE() << traits.name << " encoded";
        } catch (const bitnet::Error &e) {
            EXPECT_NE(std::string(e.what()).find("decode-only"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
