// Progress of a training run: a one-line bar on a terminal (plain lines otherwise) with step,
// loss, validation loss, tokens/s and ETA, and optionally one JSON object per logged step.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace bitnet::train {

struct StepReport {
    int64_t step = 0;  // steps done
    int64_t total_steps = 0;
    double loss = 0.0;
    double val_loss = -1.0;  // < 0: not measured at this step
    double learning_rate = 0.0;
    double grad_norm = 0.0;
    uint64_t tokens_seen = 0;
};

class Progress {
public:
    Progress(bool show, const std::string &json_log_path, int64_t first_step);
    ~Progress();
    Progress(const Progress &) = delete;
    Progress &operator=(const Progress &) = delete;

    void report(const StepReport &report, uint64_t tokens_this_run);
    void finish();

private:
    bool show_;
    bool terminal_;
    std::FILE *json_ = nullptr;
    int64_t first_step_;
    double last_val_loss_ = -1.0;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace bitnet::train
