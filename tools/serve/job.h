// One generation request as the scheduler sees it, and the channel its text travels back on. The
// HTTP thread that made the job waits on it; the scheduler thread fills it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api_error.h"
#include "request_parser.h"

namespace bitnet_serve {

using Clock = std::chrono::steady_clock;

struct JobOutcome {
    std::string finish_reason;     // "stop" or "length" ("" until finished)
    int32_t prompt_tokens = 0;
    int32_t cached_tokens = 0;     // prompt tokens found in the slot's KV cache (not reprocessed)
    int32_t completion_tokens = 0;
    double time_to_first_token_s = 0.0;
    // Speculative decoding (--draft-model or --lookup): tokens drafted for this request and how
    // many of them the target accepted; `speculative` false when the server does not draft.
    bool speculative = false;
    int64_t draft_n = 0;
    int64_t draft_n_accepted = 0;
    std::optional<ApiError> error; // set when the job failed (timeout, decode failure, shutdown)
};

class Job {
public:
    // Filled by the HTTP thread before submitting; read only by the scheduler afterwards.
    std::vector<int32_t> prompt;
    SamplingParams sampling;
    int32_t max_tokens = 1;
    std::vector<std::string> stop;
    Clock::time_point created = Clock::now();
    Clock::time_point deadline = Clock::time_point::max();

    // The client went away or gave up: the scheduler frees the slot at its next step.
    std::atomic<bool> cancelled{false};

    // Scheduler side.
    void send_text(std::string text) {
        if (text.empty()) return;
        std::lock_guard<std::mutex> lock(mutex_);
        pieces_.push_back(std::move(text));
        ready_.notify_all();
    }
    void finish(JobOutcome outcome) {
        std::lock_guard<std::mutex> lock(mutex_);
        outcome_ = std::move(outcome);
        finished_ = true;
        ready_.notify_all();
    }

    // HTTP side: waits for the next piece of text (returns true with *text set) or the end
    // (returns false; outcome() is then final).
    bool next_text(std::string *text) {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !pieces_.empty() || finished_; });
        if (pieces_.empty()) return false;
        *text = std::move(pieces_.front());
        pieces_.pop_front();
        return true;
    }
    // All the text at once, for non-streaming responses.
    std::string wait_all() {
        std::string all, piece;
        while (next_text(&piece)) all += piece;
        return all;
    }
    JobOutcome outcome() {
        std::lock_guard<std::mutex> lock(mutex_);
        return outcome_;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::string> pieces_;
    bool finished_ = false;
    JobOutcome outcome_;
};

}  // namespace bitnet_serve
