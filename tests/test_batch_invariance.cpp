// Batch invariance (issue 17 item 6): a sequence's logits must be bit-identical whether it is
// decoded alone or together with other sequences in the same bitnet_decode calls, whatever the
// CPU thread count. The integer dots of the A8 mode are exact; what this checks is that every
// float reduction (norms, attention scores, softmax sums, attention values, the float-activation
// projections and the F32/F16 lm_head) is summed in an order that depends on the one row alone,
// not on the batch's size, its composition or how rows are split across threads.
//
// The reference is the same engine decoding the sequence alone on one thread (the property is
// "equal to itself alone", so that is the independent value to compare with); the comparison is a
// memcmp of the logits, so a difference in the last bit fails.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/engine_runner.h"
#include "support/model_builder.h"

namespace {

using bitnet_test::BatchPtr;
using bitnet_test::ContextPtr;
using bitnet_test::ModelPtr;

struct Variant {
    const char *name;
    bitnet::TensorType head_type;  // the tied embedding's type, hence the lm_head's
    bool quantize_activations;
    bitnet_kv_type kv_type;
};

// Odd sizes on purpose: n_embd 104 and head_dim 26 leave remainders after every vector width
// (8 and 16 lanes), and context lengths that are not multiples of a vector reach the softmax's
// and the attention kernels' tails.
bitnet_test::ModelSpec invariance_spec(bitnet::TensorType head_type) {
    bitnet_test::ModelSpec spec;
    spec.name = "batch-invariance";
    spec.n_vocab = 67;
    spec.n_embd = 104;
    spec.n_layer = 2;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_ff = 168;
    spec.n_ctx = 256;
    spec.embedding_type = head_type;
    spec.seed = 17;
    return spec;
}

// The target sequence's work: its prompt in chunks, then single tokens (fixed, not sampled, so
// every run feeds the same inputs).
const std::vector<std::vector<int>> kTargetSteps = {
    {3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 32, 38},  // a 13-token prompt chunk
    {4, 62, 6, 43},                                   // a second chunk
    {38}, {32}, {7}, {9}, {50}, {2}, {8}, {8}, {4}, {19}};

// Another sequence's tokens at step `step`: a prompt chunk of varied length at the start (and a
// second chunk for some), then one token per step.
std::vector<int> other_tokens(int other, size_t step) {
    std::vector<int> tokens;
    size_t count = 1;
    if (step == 0) count = 3 + 3 * static_cast<size_t>(other);  // 3, 6, 9, ... tokens
    else if (step == 1 && other % 2 == 1) count = 6;
    else if (step == 4 && other == 2) count = 9;                   // a late chunk among single tokens
    for (size_t i = 0; i < count; ++i) tokens.push_back(static_cast<int>((other * 31 + step * 7 + i * 13) % 67));
    return tokens;
}

// Decodes the target (sequence `target_seq`) with `n_others` other sequences in the same calls and
// returns the target's logits, every position, in order.
std::vector<std::vector<float>> target_logits(const bitnet_model *model, const Variant &variant, int n_others,
                                              int n_threads) {
    const int n_seq = n_others + 1;
    const int target_seq = n_others / 2;  // not always first in the batch
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = 512;
    params.n_batch = 128;
    params.n_outputs_max = 128;
    params.n_seq_max = static_cast<uint32_t>(n_seq);
    params.kv_type = variant.kv_type;
    params.quantize_activations = variant.quantize_activations;
    params.n_threads = n_threads;
    params.backend = BITNET_BACKEND_CPU;
    bitnet_context *raw_context = nullptr;
    EXPECT_EQ(bitnet_context_new(model, &params, &raw_context), BITNET_OK) << bitnet_last_error();
    ContextPtr context(raw_context);
    std::vector<std::vector<float>> out;
    if (!context) return out;
    const int32_t n_vocab = bitnet_model_n_vocab(model);

    bitnet_batch *raw_batch = nullptr;
    EXPECT_EQ(bitnet_batch_new(128, &raw_batch), BITNET_OK);
    BatchPtr batch(raw_batch);
    std::vector<int32_t> next_pos(static_cast<size_t>(n_seq), 0);
    for (size_t step = 0; step < kTargetSteps.size(); ++step) {
        bitnet_batch_clear(batch.get());
        std::vector<int32_t> target_entries;
        int other = 0;
        for (int32_t seq = 0; seq < n_seq; ++seq) {
            const bool is_target = seq == target_seq;
            const std::vector<int> tokens = is_target ? kTargetSteps[step] : other_tokens(other++, step);
            for (size_t i = 0; i < tokens.size(); ++i) {
                // The target asks for every position's logits; the others for their last only.
                const bool logits = is_target || i + 1 == tokens.size();
                if (is_target) target_entries.push_back(bitnet_batch_size(batch.get()));
                EXPECT_EQ(bitnet_batch_add(batch.get(), tokens[i], next_pos[static_cast<size_t>(seq)]++, &seq, 1, logits),
                          BITNET_OK);
            }
        }
        EXPECT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
        for (int32_t entry : target_entries) out.push_back(bitnet_test::logits_copy(context.get(), entry, n_vocab));
    }
    return out;
}

// The index of the first position whose logits differ in any bit, and by how much at most.
std::string first_difference(const std::vector<std::vector<float>> &expected, const std::vector<std::vector<float>> &got) {
    if (expected.size() != got.size()) return "different numbers of positions";
    for (size_t p = 0; p < expected.size(); ++p) {
        if (expected[p].size() != got[p].size()) return "different vocabulary sizes";
        if (std::memcmp(expected[p].data(), got[p].data(), expected[p].size() * sizeof(float)) == 0) continue;
        float worst = 0.0f;
        for (size_t i = 0; i < expected[p].size(); ++i) {
            const float d = expected[p][i] > got[p][i] ? expected[p][i] - got[p][i] : got[p][i] - expected[p][i];
            worst = d > worst ? d : worst;
        }
        return "position " + std::to_string(p) + " differs (max |difference| " + std::to_string(worst) + ")";
    }
    return "";
}

class BatchInvariance : public testing::TestWithParam<Variant> {};

TEST_P(BatchInvariance, LogitsBitIdenticalAloneAndBatched) {
    const Variant &variant = GetParam();
    const std::vector<uint8_t> bytes = bitnet_test::build_model(invariance_spec(variant.head_type));
    const std::string path = bitnet_test::write_temp(std::string("batch-invariance-") + variant.name + ".gguf", bytes);
    ModelPtr model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);

    const std::vector<std::vector<float>> alone = target_logits(model.get(), variant, 0, 1);
    ASSERT_EQ(alone.size(), 13u + 4u + 10u);
    for (int n_threads : {1, 2, 3}) {
        for (int n_others : {0, 1, 3, 7}) {
            if (n_others == 0 && n_threads == 1) continue;
            const std::vector<std::vector<float>> batched = target_logits(model.get(), variant, n_others, n_threads);
            EXPECT_EQ(first_difference(alone, batched), "")
                << variant.name << ": with " << n_others << " other sequences on " << n_threads << " threads";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, BatchInvariance,
    testing::Values(Variant{"a8-f32-head", bitnet::TensorType::F32, true, BITNET_KV_F32},
                    Variant{"a8-f16-head", bitnet::TensorType::F16, true, BITNET_KV_F16},
                    Variant{"float-f32-head", bitnet::TensorType::F32, false, BITNET_KV_F32},
                    Variant{"float-f16-head", bitnet::TensorType::F16, false, BITNET_KV_F16}),
    [](const testing::TestParamInfo<Variant> &info) {
        std::string name = info.param.name;
        for (char &c : name) c = c == '-' ? '_' : c;
        return name;
    });

}  // namespace
