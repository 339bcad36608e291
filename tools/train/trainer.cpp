#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "train/blas.h"
#include "train/checkpoint.h"
#include "train/loss_curve.h"
#include "train/progress.h"
#include "util/error.h"

namespace bitnet::train {
namespace {

// The run's shape and step count once the tokenizer's vocabulary is known.
TrainState new_state(const TrainOptions &options, const Tokenizer &tokenizer) {
    TrainState state;
    state.options = options;
    state.shape = preset_shape(options.preset, tokenizer.size());
    if (options.ctx > 0) state.shape.n_ctx = options.ctx;
    check_shape(state.shape);
    state.tokenizer_model = tokenizer.serialized_model();
    state.random.state = options.seed;
    state.parameters = initial_parameters(state.shape, options.seed);
    state.m.assign(state.parameters.size(), 0.0f);
    state.v.assign(state.parameters.size(), 0.0f);
    return state;
}

// Settings that can be refused before minutes of tokenizer training are spent.
const TrainOptions &checked(const TrainOptions &options) {
    preset_shape(options.preset, 2);
    if (options.batch <= 0 || options.ctx < 0 || options.vocab_size <= 0) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "train: batch, context and vocabulary size must be positive");
    }
    return options;
}

}  // namespace

std::vector<float> initial_parameters(const ModelShape &shape, uint64_t seed) {
    const ParameterLayout layout = ParameterLayout::of(shape);
    std::vector<float> parameters(layout.total);
    Random random{seed ^ 0x5eed5eed5eed5eedull};
    for (const ParameterView *view : layout.all()) {
        float *p = parameters.data() + view->offset;
        if (view->rows == 1) {  // norm weights start as the identity
            std::fill(p, p + view->size(), 1.0f);
            continue;
        }
        // Projections: 1/sqrt(fan_in), the usual scale; absmean ternarization is blind to it, but
        // it sets how many Adam steps flip a code. Embedding: small, as GPT-2 does (0.02).
        const double std_dev = view->projection ? 1.0 / std::sqrt(static_cast<double>(view->cols)) : 0.02;
        for (uint64_t i = 0; i < view->size(); ++i) p[i] = static_cast<float>(std_dev * random.normal());
    }
    return parameters;
}

Trainer::Trainer(const TrainOptions &options, const std::string &train_text, const std::string &val_text)
    : tokenizer_(Tokenizer::train(train_text, checked(options).vocab_size, options.threads)),
      state_(new_state(options, tokenizer_)),
      model_(state_.shape),
      final_val_loss_(std::numeric_limits<double>::quiet_NaN()) {
    prepare(train_text, val_text);
    OptimizerSettings &optimizer = state_.options.optimizer;
    if (options.steps > 0) {
        optimizer.total_steps = options.steps;
    } else {
        const double tokens_per_step = static_cast<double>(options.batch) * state_.shape.n_ctx;
        optimizer.total_steps = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(options.epochs * train_tokens_.size() / tokens_per_step)));
    }
    if (optimizer.warmup_steps <= 0) optimizer.warmup_steps = std::max<int64_t>(1, optimizer.total_steps / 20);
}

Trainer::Trainer(TrainState state, const std::string &train_text, const std::string &val_text)
    : tokenizer_(Tokenizer::from_model(state.tokenizer_model)),
      state_(std::move(state)),
      model_(state_.shape),
      final_val_loss_(std::numeric_limits<double>::quiet_NaN()) {
    if (tokenizer_.size() != state_.shape.n_vocab) {
        fail(BITNET_ERR_INVALID_MODEL, "train: the checkpoint's tokenizer has %d tokens but its model %d", tokenizer_.size(), state_.shape.n_vocab);
    }
    prepare(train_text, val_text);
}

void Trainer::prepare(const std::string &train_text, const std::string &val_text) {
    if (state_.options.threads > 0) set_training_threads(state_.options.threads);
    train_tokens_ = tokenizer_.encode(train_text);
    if (val_text.empty()) {
        // Hold out the last 5% of the training text (at least two windows' worth if it can).
        const uint64_t held = std::max<uint64_t>(train_tokens_.size() / 20, std::min<uint64_t>(train_tokens_.size() / 2, 2 * (state_.shape.n_ctx + 1)));
        val_tokens_.assign(train_tokens_.end() - static_cast<int64_t>(held), train_tokens_.end());
        train_tokens_.resize(train_tokens_.size() - held);
    } else {
        val_tokens_ = tokenizer_.encode(val_text);
    }
    const uint64_t needed = static_cast<uint64_t>(state_.shape.n_ctx) + 1;
    if (train_tokens_.size() < needed || val_tokens_.size() < needed) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "train: the text is too short: %zu training and %zu validation tokens, each needs at least %llu (ctx + 1); lower --ctx or give more text",
             train_tokens_.size(), val_tokens_.size(), static_cast<unsigned long long>(needed));
    }
}

void Trainer::sample_batch(std::vector<int32_t> &inputs, std::vector<int32_t> &targets) {
    const int batch = state_.options.batch, ctx = state_.shape.n_ctx;
    inputs.resize(static_cast<size_t>(batch) * ctx);
    targets.resize(inputs.size());
    const uint64_t starts = train_tokens_.size() - ctx;  // windows of ctx + 1 tokens
    for (int b = 0; b < batch; ++b) {
        const uint64_t start = state_.random.below(starts);
        std::copy_n(train_tokens_.begin() + static_cast<int64_t>(start), ctx, inputs.begin() + static_cast<int64_t>(b) * ctx);
        std::copy_n(train_tokens_.begin() + static_cast<int64_t>(start) + 1, ctx, targets.begin() + static_cast<int64_t>(b) * ctx);
    }
}

std::vector<std::pair<uint64_t, int>> Trainer::validation_windows(int max_windows) const {
    // Consecutive non-overlapping windows from the start of the held-out tokens.
    const int ctx = state_.shape.n_ctx;
    std::vector<std::pair<uint64_t, int>> windows;
    for (uint64_t start = 0; start + ctx + 1 <= val_tokens_.size() && static_cast<int>(windows.size()) < max_windows; start += ctx) {
        windows.emplace_back(start, ctx);
    }
    return windows;
}

double Trainer::validation_loss(int max_windows) {
    const auto windows = validation_windows(max_windows);
    const int ctx = state_.shape.n_ctx;
    const int per_call = std::max(1, state_.options.batch);
    double total = 0.0;
    size_t done = 0;
    for (size_t first = 0; first < windows.size(); first += per_call) {
        const int n = static_cast<int>(std::min<size_t>(per_call, windows.size() - first));
        std::vector<int32_t> inputs(static_cast<size_t>(n) * ctx), targets(inputs.size());
        for (int b = 0; b < n; ++b) {
            const uint64_t start = windows[first + b].first;
            std::copy_n(val_tokens_.begin() + static_cast<int64_t>(start), ctx, inputs.begin() + static_cast<int64_t>(b) * ctx);
            std::copy_n(val_tokens_.begin() + static_cast<int64_t>(start) + 1, ctx, targets.begin() + static_cast<int64_t>(b) * ctx);
        }
        total += model_.loss(state_.parameters.data(), inputs.data(), targets.data(), n, ctx, true, nullptr) * n;
        done += static_cast<size_t>(n);
    }
    return total / static_cast<double>(done);
}

double Trainer::unigram_validation_loss(int max_windows) const {
    std::vector<double> counts(static_cast<size_t>(state_.shape.n_vocab), 1.0);  // add-one smoothing
    for (int32_t token : train_tokens_) counts[static_cast<size_t>(token)] += 1.0;
    const double total = static_cast<double>(train_tokens_.size()) + state_.shape.n_vocab;
    double loss = 0.0;
    uint64_t n = 0;
    for (const auto &[start, length] : validation_windows(max_windows)) {
        for (int i = 1; i <= length; ++i, ++n) loss -= std::log(counts[static_cast<size_t>(val_tokens_[start + i])] / total);
    }
    return loss / static_cast<double>(n);
}

void Trainer::run(int64_t stop_step) {
    TrainState &s = state_;
    const TrainOptions &o = s.options;
    stop_step = std::min(stop_step, total_steps());
    Progress progress(o.progress, o.json_log_path, s.step);
    std::vector<int32_t> inputs, targets;
    std::vector<float> gradients(s.parameters.size());
    uint64_t tokens_this_run = 0;
    CurvePoints train_curve, val_curve;
    while (s.step < stop_step) {
        sample_batch(inputs, targets);
        const double loss = model_.loss(s.parameters.data(), inputs.data(), targets.data(), o.batch, s.shape.n_ctx, true,
                                        gradients.data());
        if (!std::isfinite(loss)) fail(BITNET_ERR_INTERNAL, "train: the loss is %f at step %lld; lower --lr", loss, static_cast<long long>(s.step));
        const double grad_norm = clip_gradients(gradients, o.optimizer.clip_norm);
        adamw_step(o.optimizer, model_.layout(), s.step, gradients, s.parameters, s.m, s.v);
        const double learning_rate = learning_rate_at(o.optimizer, s.step);
        ++s.step;
        s.tokens_seen += inputs.size();
        tokens_this_run += inputs.size();

        const bool last = s.step == total_steps();
        StepReport report{s.step, total_steps(), loss, -1.0, learning_rate, grad_norm, s.tokens_seen};
        if ((o.val_every > 0 && s.step % o.val_every == 0) || last) report.val_loss = validation_loss();
        if (last) final_val_loss_ = report.val_loss;
        if (s.step % std::max<int64_t>(1, o.log_every) == 0 || report.val_loss >= 0 || s.step == stop_step) {
            progress.report(report, tokens_this_run);
            train_curve.emplace_back(s.step, loss);
            if (report.val_loss >= 0) val_curve.emplace_back(s.step, report.val_loss);
        }
        if (!o.checkpoint_path.empty() && ((o.checkpoint_every > 0 && s.step % o.checkpoint_every == 0) || s.step == stop_step)) {
            write_checkpoint(s, o.checkpoint_path);
        }
    }
    progress.finish();
    if (!o.plot_path.empty() && !train_curve.empty()) write_loss_curve_svg(o.plot_path, train_curve, val_curve);
}

}  // namespace bitnet::train
