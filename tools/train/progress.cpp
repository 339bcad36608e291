#include "train/progress.h"

#include <unistd.h>

#include "util/error.h"

namespace bitnet::train {

Progress::Progress(bool show, const std::string &json_log_path, int64_t first_step)
    : show_(show), terminal_(isatty(STDERR_FILENO) != 0), first_step_(first_step), start_(std::chrono::steady_clock::now()) {
    if (!json_log_path.empty()) {
        json_ = std::fopen(json_log_path.c_str(), first_step > 0 ? "a" : "w");
        if (!json_) fail(BITNET_ERR_IO, "train: cannot open the JSON log '%s' for writing", json_log_path.c_str());
    }
}

Progress::~Progress() {
    if (json_) std::fclose(json_);
}

void Progress::report(const StepReport &r, uint64_t tokens_this_run) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double tokens_per_second = seconds > 0 ? tokens_this_run / seconds : 0.0;
    const int64_t steps_this_run = r.step - first_step_;
    const double eta = steps_this_run > 0 ? seconds / steps_this_run * (r.total_steps - r.step) : 0.0;
    if (r.val_loss >= 0) last_val_loss_ = r.val_loss;
    if (json_) {
        std::fprintf(json_, "{\"step\":%lld,\"loss\":%.6f,", static_cast<long long>(r.step), r.loss);
        if (r.val_loss >= 0) std::fprintf(json_, "\"val_loss\":%.6f,", r.val_loss);
        std::fprintf(json_, "\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%llu,\"tokens_per_s\":%.1f,\"elapsed_s\":%.2f}\n",
                     r.learning_rate, r.grad_norm, static_cast<unsigned long long>(r.tokens_seen), tokens_per_second, seconds);
        std::fflush(json_);
    }
    if (!show_) return;
    const int width = 24;
    const int filled = r.total_steps > 0 ? static_cast<int>(width * r.step / r.total_steps) : width;
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(width, ' ');
    char val[32] = "   -  ";
    if (last_val_loss_ >= 0) std::snprintf(val, sizeof val, "%6.3f", last_val_loss_);
    const int eta_s = static_cast<int>(eta);
    std::fprintf(stderr, "%sstep %lld/%lld [%s] loss %6.3f val %s lr %.2e %7.0f tok/s ETA %dm%02ds%s",
                 terminal_ ? "\r" : "", static_cast<long long>(r.step), static_cast<long long>(r.total_steps), bar.c_str(),
                 r.loss, val, r.learning_rate, tokens_per_second, eta_s / 60, eta_s % 60, terminal_ ? "" : "\n");
    std::fflush(stderr);
}

void Progress::finish() {
    if (show_ && terminal_) std::fputc('\n', stderr);
}

}  // namespace bitnet::train
