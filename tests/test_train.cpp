// `bitnet train` end to end in process (tools/train): a 2 KB text is learnt by heart, the exported
// I2_S GGUF computes in the engine (A8) and in the double-precision reference what the trainer's
// own forward pass computes, and a resumed run is bit-identical to one that never stopped.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/test_support.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/export_gguf.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/half.h"

namespace {

using bitnet::train::TrainOptions;
using bitnet::train::Trainer;

// Text in the tree, under the project's own license: its architecture notes.
std::string tree_text(size_t bytes) {
    std::string text = bitnet::train::read_text_file(std::string(BITNET_SOURCE_DIR) + "/docs/architecture.md");
    return text.substr(0, std::min(bytes, text.size()));
}

TrainOptions nano_options(int64_t steps) {
    TrainOptions options;
    options.preset = "nano";
    options.vocab_size = 400;
    options.ctx = 32;
    options.batch = 8;
    options.steps = steps;
    options.optimizer.learning_rate = 0.01f;
    options.threads = 1;
    options.seed = 5;
    options.log_every = 1000;
    options.val_every = 0;
    options.progress = false;
    return options;
}

TEST(Train, OverfitsTwoKilobytesBelowOneTenthOfANatPerToken) {
    const std::string text = tree_text(2048);
    ASSERT_EQ(text.size(), 2048u);
    // Batches of 16 windows of 64 tokens (the text is ~1200 tokens), no weight decay: memorizing.
    TrainOptions options = nano_options(350);
    options.ctx = 64;
    options.batch = 16;
    options.optimizer.weight_decay = 0.0f;
    Trainer trainer(options, text, text);  // "validation" on the training text itself
    const double before = trainer.validation_loss();
    trainer.run(trainer.total_steps());
    const double after = trainer.final_validation_loss();
    std::printf("training-text loss %.3f -> %.4f nats/token over %lld steps\n", before, after,
                static_cast<long long>(trainer.total_steps()));
    EXPECT_GT(before, 4.0);
    EXPECT_LT(after, 0.1);
}

// What the engine sees: the exported embedding is F16, so the trainer's reference forward uses
// the same rounded embedding.
std::vector<float> with_f16_embedding(const Trainer &trainer) {
    std::vector<float> parameters = trainer.state().parameters;
    const auto &view = trainer.state().shape;
    const uint64_t n = static_cast<uint64_t>(view.n_vocab) * view.n_embd;
    const uint64_t offset = bitnet::train::ParameterLayout::of(view).token_embd.offset;
    for (uint64_t i = 0; i < n; ++i) parameters[offset + i] = bitnet::half_to_float(bitnet::float_to_half(parameters[offset + i]));
    return parameters;
}

TEST(Train, ExportedModelMatchesTheTrainerForwardInEngineAndReference) {
    const std::string text = tree_text(6000);
    Trainer trainer(nano_options(150), text, "");
    trainer.run(trainer.total_steps());
    const std::string path = bitnet_test::temp_dir() + "/trained.gguf";
    bitnet::train::write_gguf(path, trainer.state().shape, trainer.state().parameters, trainer.tokenizer(), "test");

    std::vector<int32_t> tokens = trainer.tokenizer().encode(text.substr(3000, 400));
    tokens.resize(std::min<size_t>(tokens.size(), 32));
    tokens.insert(tokens.begin(), trainer.tokenizer().bos());
    tokens.resize(32);
    const int n = static_cast<int>(tokens.size()), vocab = trainer.state().shape.n_vocab;

    std::vector<float> parameters = with_f16_embedding(trainer);
    trainer.model().forward(parameters.data(), tokens.data(), 1, n, true);
    const std::vector<float> trainer_logits = trainer.model().logits();

    bitnet_test::ModelPtr model = bitnet_test::load_model(path);
    ASSERT_TRUE(model);
    bitnet_test::RunOptions run;
    run.quantize_activations = true;
    const auto engine = bitnet_test::engine_logits(model.get(), std::vector<int>(tokens.begin(), tokens.end()), run);
    const bitnet_reference::Model reference_model = bitnet_reference::Model::load(path);
    const auto reference = bitnet_reference::forward(reference_model, std::vector<int>(tokens.begin(), tokens.end()), {});
    ASSERT_EQ(engine.size(), static_cast<size_t>(n));

    double worst_engine = 0.0, worst_reference = 0.0;
    int argmax_checked = 0;
    for (int pos = 0; pos < n; ++pos) {
        std::vector<double> expected(trainer_logits.begin() + static_cast<int64_t>(pos) * vocab,
                                     trainer_logits.begin() + static_cast<int64_t>(pos + 1) * vocab);
        std::vector<float> reference_float(reference[pos].begin(), reference[pos].end());
        worst_engine = std::max(worst_engine, bitnet_test::relative_rms(engine[pos], expected));
        worst_reference = std::max(worst_reference, bitnet_test::relative_rms(reference_float, expected));
        // Greedy continuation: the same argmax wherever the trainer's top-2 margin is clear.
        std::vector<double> sorted = expected;
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        if (sorted[0] - sorted[1] < 0.5) continue;
        const auto best = std::max_element(expected.begin(), expected.end()) - expected.begin();
        EXPECT_EQ(std::max_element(engine[pos].begin(), engine[pos].end()) - engine[pos].begin(), best) << "position " << pos;
        EXPECT_EQ(std::max_element(reference[pos].begin(), reference[pos].end()) - reference[pos].begin(), best) << "position " << pos;
        ++argmax_checked;
    }
    std::printf("trainer vs engine A8: worst rel_rms %.3g; vs double reference A8: %.3g; %d clear argmaxes equal\n",
                worst_engine, worst_reference, argmax_checked);
    EXPECT_LE(worst_engine, 0.04);
    EXPECT_LE(worst_reference, 0.04);
    EXPECT_GT(argmax_checked, 0);
}

TEST(Train, ResumedRunIsBitIdenticalToAnUninterruptedOne) {
    const std::string text = tree_text(6000);
    const int64_t half = 6;
    Trainer straight(nano_options(2 * half), text, "");
    straight.run(2 * half);

    TrainOptions options = nano_options(2 * half);
    options.checkpoint_path = bitnet_test::temp_dir() + "/resume.ckpt";
    Trainer first(options, text, "");
    first.run(half);
    ASSERT_EQ(first.state().step, half);
    bitnet::train::TrainState saved = bitnet::train::read_checkpoint(options.checkpoint_path);
    saved.options.progress = false;
    saved.options.checkpoint_path.clear();
    Trainer resumed(std::move(saved), text, "");
    EXPECT_EQ(resumed.state().step, half);
    resumed.run(2 * half);

    const auto &a = straight.state(), &b = resumed.state();
    ASSERT_EQ(a.parameters.size(), b.parameters.size());
    EXPECT_EQ(std::memcmp(a.parameters.data(), b.parameters.data(), a.parameters.size() * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(a.m.data(), b.m.data(), a.m.size() * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(a.v.data(), b.v.data(), a.v.size() * sizeof(float)), 0);
    EXPECT_EQ(a.random.state, b.random.state);
    EXPECT_EQ(a.tokens_seen, b.tokens_seen);
    // And training did move the weights (the comparison would be vacuous otherwise).
    EXPECT_NE(std::memcmp(a.parameters.data(), first.state().parameters.data(), a.parameters.size() * sizeof(float)), 0);
}

std::string error_of(const std::string &path) {
    try {
        bitnet::train::read_checkpoint(path);
    } catch (const bitnet::Error &error) {
        return error.what();
    }
    return "";
}

TEST(Train, DamagedCheckpointsAreRefusedWithTheirReason) {
    const std::string dir = bitnet_test::temp_dir();
    TrainOptions options = nano_options(2);
    options.checkpoint_path = dir + "/good.ckpt";
    Trainer trainer(options, tree_text(3000), "");
    trainer.run(2);
    const std::vector<uint8_t> good = bitnet_test::read_file(options.checkpoint_path);
    ASSERT_GT(good.size(), 100u);
    EXPECT_EQ(error_of(options.checkpoint_path), "");

    std::vector<uint8_t> corrupt = good;
    corrupt[good.size() / 2] ^= 0x40;
    bitnet_test::write_file(dir + "/corrupt.ckpt", corrupt);
    EXPECT_NE(error_of(dir + "/corrupt.ckpt").find("checksum"), std::string::npos) << error_of(dir + "/corrupt.ckpt");

    bitnet_test::write_file(dir + "/truncated.ckpt", std::vector<uint8_t>(good.begin(), good.end() - 10));
    EXPECT_NE(error_of(dir + "/truncated.ckpt").find("truncated"), std::string::npos) << error_of(dir + "/truncated.ckpt");

    bitnet_test::write_file(dir + "/short.ckpt", std::vector<uint8_t>(good.begin(), good.begin() + 12));
    EXPECT_NE(error_of(dir + "/short.ckpt").find("not a bitnet training checkpoint"), std::string::npos);

    std::vector<uint8_t> version = good;
    version[8] = 99;
    bitnet_test::write_file(dir + "/version.ckpt", version);
    EXPECT_NE(error_of(dir + "/version.ckpt").find("version 99"), std::string::npos);
}

}  // namespace
