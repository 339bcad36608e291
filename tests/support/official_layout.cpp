#include "support/official_layout.h"

#include <gtest/gtest.h>

#include <string>

namespace bitnet_test {

// The 24 keys of the official file, in its order (formats.md §2.9).
const char *const kOfficialKeys[] = {
    "general.architecture", "general.name", "bitnet-b1.58.vocab_size", "bitnet-b1.58.context_length",
    "bitnet-b1.58.embedding_length", "bitnet-b1.58.block_count", "bitnet-b1.58.feed_forward_length",
    "bitnet-b1.58.rope.dimension_count", "bitnet-b1.58.attention.head_count", "bitnet-b1.58.attention.head_count_kv",
    "tokenizer.ggml.add_bos_token", "bitnet-b1.58.attention.layer_norm_rms_epsilon", "bitnet-b1.58.rope.freq_base",
    "general.file_type", "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
    "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.chat_template", "general.quantization_version"};

void expect_official_layout(const bitnet::gguf::File &file, int n_layer) {
    ASSERT_EQ(file.metadata().size(), 24u);
    for (size_t i = 0; i < 24; ++i) EXPECT_EQ(file.metadata()[i].key, kOfficialKeys[i]) << "key " << i;
    EXPECT_EQ(file.get_uint("general.file_type"), 40u);  // MOSTLY_I2_S
    EXPECT_EQ(file.find("tokenizer.ggml.pre"), nullptr);
    EXPECT_EQ(file.find("general.alignment"), nullptr);
    ASSERT_EQ(file.tensors().size(), static_cast<size_t>(2 + 11 * n_layer));
    EXPECT_EQ(file.find_tensor("token_embd.weight")->type, bitnet::TensorType::F16);
    EXPECT_EQ(file.find_tensor("output.weight"), nullptr);  // tied
    for (int layer = 0; layer < n_layer; ++layer) {
        std::string p = "blk." + std::to_string(layer) + ".";
        for (const char *name : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
            const auto *t = file.find_tensor(p + name + ".weight");
            ASSERT_NE(t, nullptr) << p << name;
            EXPECT_EQ(t->type, bitnet::TensorType::I2_S);
            EXPECT_EQ(t->n_bytes, t->n_elements / 4 + 32);
        }
        for (const char *name : {"attn_norm", "attn_sub_norm", "ffn_norm", "ffn_sub_norm"}) {
            const auto *t = file.find_tensor(p + name + ".weight");
            ASSERT_NE(t, nullptr) << p << name;
            EXPECT_EQ(t->type, bitnet::TensorType::F32);
        }
    }
}

}  // namespace bitnet_test
