// The training loop of `bitnet train`: data, tokenizer, model, optimizer, progress, checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train/model_shape.h"
#include "train/optimizer.h"
#include "train/random.h"
#include "train/tokenizer_trainer.h"
#include "train/transformer.h"

namespace bitnet::train {

struct TrainOptions {
    std::string preset = "micro";
    int32_t vocab_size = 4096;
    int32_t ctx = 0;          // 0: the preset's
    int32_t batch = 16;       // sequences per step
    int64_t steps = 0;        // 0: from epochs
    double epochs = 1.0;
    OptimizerSettings optimizer;
    int32_t threads = 1;      // see cmd_train.cpp's usage: more threads only pay on big, idle machines
    uint64_t seed = 1;
    int64_t log_every = 10;
    int64_t val_every = 100;
    int64_t checkpoint_every = 0;  // 0: only at the end
    std::string checkpoint_path;   // "" : no checkpoints
    std::string json_log_path;
    std::string plot_path;         // "": no loss-curve SVG
    bool progress = true;
};

// Everything a checkpoint holds (checkpoint.h): with the same data, a run continued from it is
// bit-identical to one that never stopped (single thread).
struct TrainState {
    ModelShape shape;
    TrainOptions options;        // batch, steps, optimizer settings and seed of the run
    std::string tokenizer_model; // serialized SentencePiece model
    int64_t step = 0;            // steps done
    uint64_t tokens_seen = 0;
    Random random;               // draws the batch windows: the data position
    std::vector<float> parameters, m, v;
};

class Trainer {
public:
    // A new run: trains the tokenizer on `train_text`, holds out `val_text` (or, when empty, the
    // last 5% of the training tokens) and initializes the weights from the seed.
    Trainer(const TrainOptions &options, const std::string &train_text, const std::string &val_text);
    // A resumed run over the same text.
    Trainer(TrainState state, const std::string &train_text, const std::string &val_text);

    // Train up to step `stop_step` (at most the run's total). Writes checkpoints as configured.
    void run(int64_t stop_step);
    int64_t total_steps() const { return state_.options.optimizer.total_steps; }

    // Mean validation loss (nats per token) over up to `max_windows` windows, quantized forward.
    double validation_loss(int max_windows = 64);
    // The final one, measured after run() reaches the total (NaN before).
    double final_validation_loss() const { return final_val_loss_; }
    // Perplexity of the unigram (token frequency) model of the training tokens on the same
    // validation windows, add-one smoothed: the baseline the README compares against.
    double unigram_validation_loss(int max_windows = 64) const;

    const TrainState &state() const { return state_; }
    const Tokenizer &tokenizer() const { return tokenizer_; }
    Transformer<float> &model() { return model_; }
    uint64_t train_tokens() const { return train_tokens_.size(); }

private:
    void prepare(const std::string &train_text, const std::string &val_text);
    void sample_batch(std::vector<int32_t> &inputs, std::vector<int32_t> &targets);
    std::vector<std::pair<uint64_t, int>> validation_windows(int max_windows) const;

    Tokenizer tokenizer_;  // before state_: a new run's shape takes its vocabulary size
    TrainState state_;
    Transformer<float> model_;
    std::vector<int32_t> train_tokens_, val_tokens_;
    double final_val_loss_;
};

// Initial latent weights from the seed (see trainer.cpp).
std::vector<float> initial_parameters(const ModelShape &shape, uint64_t seed);

}  // namespace bitnet::train
