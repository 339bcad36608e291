// bitnet train: quantization-aware training of a small BitNet b1.58 model on a text file, with a
// SentencePiece tokenizer trained on the same text, and export as an I2_S GGUF the engine runs
// (see tools/train/).
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "command.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/export_gguf.h"
#include "train/trainer.h"
#include "util/error.h"

namespace {

const char *const kUsage =
    "usage: bitnet train --data TEXT [--val TEXT] --preset pico|nano|micro|small [--vocab-size N]\n"
    "                    [--steps N | --epochs E] [--lr LR] [--warmup N] [--weight-decay W] [--batch N]\n"
    "                    [--ctx N] [--threads N] [--seed N] [--log-every N] [--val-every N]\n"
    "                    [--checkpoint CKPT] [--checkpoint-every N] [--resume CKPT] [--json-log FILE]\n"
    "                    [--plot LOSS.svg] [--name NAME] [--quiet] -o MODEL.gguf\n"
    "--threads defaults to 1: OpenBLAS and OpenMP threads busy-wait, which on a loaded or small\n"
    "machine costs far more than it gains at these matrix sizes.\n"
    "Trains with absmean ternary weights and per-token int8 activations in the forward pass\n"
    "(straight-through gradients), AdamW with warmup and cosine decay, gradient clipping. Without\n"
    "--val the last 5% of --data is held out. --resume continues a checkpoint of the same data;\n"
    "the run's settings come from the checkpoint.\n";

bool parse_count(const char *text, int64_t *out) {
    char *end = nullptr;
    errno = 0;
    long long value = std::strtoll(text, &end, 10);
    if (!*text || *end || errno || value <= 0) return false;
    *out = value;
    return true;
}

bool parse_positive_real(const char *text, double *out) {
    char *end = nullptr;
    double value = std::strtod(text, &end);
    if (!*text || *end || !std::isfinite(value) || value < 0) return false;
    *out = value;
    return true;
}

int usage_error(const char *message, const std::string &arg, const char *value) {
    std::fprintf(stderr, "bitnet train: %s %s, got '%s'\n", arg.c_str(), message, value);
    return 2;
}

int run_train(int argc, char **argv) {
    bitnet::train::TrainOptions options;
    std::string data_path, val_path, output, resume, name = "bitnet-trained", preset;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--quiet") {
            options.progress = false;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "bitnet train: '%s' needs a value\n%s", arg.c_str(), kUsage);
            return 2;
        }
        const char *value = argv[++i];
        int64_t count = 0;
        double real = 0;
        if (arg == "--data") data_path = value;
        else if (arg == "--val") val_path = value;
        else if (arg == "--preset") preset = value;
        else if (arg == "-o" || arg == "--output") output = value;
        else if (arg == "--resume") resume = value;
        else if (arg == "--checkpoint") options.checkpoint_path = value;
        else if (arg == "--json-log") options.json_log_path = value;
        else if (arg == "--plot") options.plot_path = value;
        else if (arg == "--name") name = value;
        else if (arg == "--lr" || arg == "--weight-decay" || arg == "--epochs") {
            if (!parse_positive_real(value, &real)) return usage_error("needs a non-negative number", arg, value);
            if (arg == "--lr") options.optimizer.learning_rate = static_cast<float>(real);
            else if (arg == "--weight-decay") options.optimizer.weight_decay = static_cast<float>(real);
            else options.epochs = real;
        } else if (arg == "--vocab-size" || arg == "--steps" || arg == "--batch" || arg == "--ctx" || arg == "--threads" ||
                   arg == "--seed" || arg == "--log-every" || arg == "--val-every" || arg == "--checkpoint-every" ||
                   arg == "--warmup") {
            if (!parse_count(value, &count)) return usage_error("needs a positive integer", arg, value);
            const bool small_int = count <= (1 << 24);
            if (arg == "--vocab-size" && small_int) options.vocab_size = static_cast<int32_t>(count);
            else if (arg == "--steps") options.steps = count;
            else if (arg == "--batch" && small_int) options.batch = static_cast<int32_t>(count);
            else if (arg == "--ctx" && small_int) options.ctx = static_cast<int32_t>(count);
            else if (arg == "--threads" && small_int) options.threads = static_cast<int32_t>(count);
            else if (arg == "--seed") options.seed = static_cast<uint64_t>(count);
            else if (arg == "--log-every") options.log_every = count;
            else if (arg == "--val-every") options.val_every = count;
            else if (arg == "--checkpoint-every") options.checkpoint_every = count;
            else if (arg == "--warmup") options.optimizer.warmup_steps = count;
            else return usage_error("is too large", arg, value);
        } else {
            std::fprintf(stderr, "bitnet train: unknown option '%s'\n%s", arg.c_str(), kUsage);
            return 2;
        }
    }
    if (data_path.empty() || output.empty() || (preset.empty() && resume.empty())) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    try {
        const std::string train_text = bitnet::train::read_text_file(data_path);
        const std::string val_text = val_path.empty() ? std::string() : bitnet::train::read_text_file(val_path);
        std::unique_ptr<bitnet::train::Trainer> trainer;
        if (!resume.empty()) {
            bitnet::train::TrainState state = bitnet::train::read_checkpoint(resume);
            if (!preset.empty() && preset != state.options.preset) {
                std::fprintf(stderr, "bitnet train: checkpoint '%s' is a '%s' model, not '%s'\n", resume.c_str(),
                             state.options.preset.c_str(), preset.c_str());
                return 1;
            }
            // Where to write and how to report come from this command line; the run's settings
            // (shape, batch, schedule, seed) from the checkpoint.
            state.options.checkpoint_path = options.checkpoint_path.empty() ? resume : options.checkpoint_path;
            state.options.json_log_path = options.json_log_path;
            state.options.plot_path = options.plot_path;
            state.options.progress = options.progress;
            state.options.threads = options.threads;
            trainer = std::make_unique<bitnet::train::Trainer>(std::move(state), train_text, val_text);
        } else {
            options.preset = preset;
            trainer = std::make_unique<bitnet::train::Trainer>(options, train_text, val_text);
        }
        const auto &state = trainer->state();
        std::fprintf(stderr,
                     "bitnet train: preset %s: n_embd %d, %d layers, %d heads (%d kv), n_ff %d, ctx %d, vocabulary %d; "
                     "%llu parameters; %llu training tokens; %lld steps of %d x %d tokens\n",
                     state.options.preset.c_str(), state.shape.n_embd, state.shape.n_layer, state.shape.n_head,
                     state.shape.n_head_kv, state.shape.n_ff, state.shape.n_ctx, state.shape.n_vocab,
                     static_cast<unsigned long long>(state.parameters.size()),
                     static_cast<unsigned long long>(trainer->train_tokens()), static_cast<long long>(trainer->total_steps()),
                     state.options.batch, state.shape.n_ctx);
        trainer->run(trainer->total_steps());
        // A resumed run that was already complete re-exports; measure its validation loss here.
        const double val_loss = std::isnan(trainer->final_validation_loss()) ? trainer->validation_loss()
                                                                            : trainer->final_validation_loss();
        const double unigram = trainer->unigram_validation_loss();
        std::fprintf(stderr, "bitnet train: validation loss %.4f nats/token (perplexity %.2f); unigram baseline %.4f (perplexity %.2f)\n",
                     val_loss, std::exp(val_loss), unigram, std::exp(unigram));
        bitnet::train::write_gguf(output, state.shape, state.parameters, trainer->tokenizer(), name);
        std::fprintf(stderr, "bitnet train: wrote %s\n", output.c_str());
    } catch (const bitnet::Error &error) {
        std::fprintf(stderr, "bitnet %s\n", error.what());  // the messages start with "train: "
        return 1;
    }
    return 0;
}

bitnet_cli::CommandRegistration registration("train", "train a small BitNet b1.58 model on a text file (CPU)", run_train);

}  // namespace
