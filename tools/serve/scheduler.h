// Continuous batching: one context holds --parallel sequences (slots). Every step decodes, in one
// bitnet_decode call, the next token of every generating slot and a chunk of the prompt of every
// slot still reading one. A queued job takes a free slot at the next step; a finished or
// cancelled one frees its slot at once. A slot keeps its last conversation in the KV cache, and a
// new job goes to the free slot whose cache shares the longest prefix with its prompt, so a chat's
// next turn processes only its new tokens.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bitnet.h"
#include "job.h"

namespace bitnet_serve {

// Speculative decoding of the generating slots (--draft-model, --lookup): the helper over the
// scheduler's context and the draft model and context it drafts with (null for prompt lookup).
// The scheduler owns them. With a helper each generating slot takes its own decode per step (the
// verification of its drafts); prompts are still read together in one batch.
struct SpeculativeSetup {
    bitnet_speculative *helper = nullptr;
    bitnet_context *draft_context = nullptr;
    bitnet_model *draft_model = nullptr;
    int32_t draft_max = 0;
};

struct SchedulerStats {
    int32_t busy_slots = 0;
    int32_t queued = 0;
    int64_t kv_cells_used = 0;  // tokens held by all slots' sequences
};

class Scheduler {
public:
    // Called on the scheduler thread when a job ends, however it ends (for the metrics).
    using FinishedCallback = std::function<void(const Job &, const JobOutcome &)>;

    // The scheduler owns the context (made with n_seq_max = n_slots) from now on; the model must
    // outlive it.
    Scheduler(bitnet_context *context, int32_t n_slots, size_t max_queue, FinishedCallback on_finished,
              SpeculativeSetup speculative = {});
    ~Scheduler();  // stops the thread; unfinished jobs end with a 503 error
    Scheduler(const Scheduler &) = delete;
    Scheduler &operator=(const Scheduler &) = delete;

    // Queues a job; false when max_queue jobs already wait beyond the free slots (the caller answers 503).
    bool submit(std::shared_ptr<Job> job);
    SchedulerStats stats();
    // Tokens one slot may hold: its share of the context.
    int32_t slot_context() const { return slot_context_; }

private:
    struct Slot;
    void loop();
    void step(std::unique_lock<std::mutex> &lock);
    void start_job(Slot &slot, std::shared_ptr<Job> job);
    void end_job(Slot &slot, std::optional<ApiError> error);
    void finish(Job &job, const JobOutcome &outcome);
    bool sample_next(Slot &slot, int32_t batch_index);
    bool take_token(Slot &slot, bitnet_token token);
    void speculate(Slot &slot);

    bitnet_context *context_;
    const bitnet_model *model_;
    int32_t slot_context_;
    size_t max_queue_;
    FinishedCallback on_finished_;
    SpeculativeSetup speculative_;
    bitnet_batch *batch_ = nullptr;
    std::vector<std::unique_ptr<Slot>> slots_;

    std::mutex mutex_;                 // guards queue_, stopping_ and the stats
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> queue_;
    SchedulerStats stats_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace bitnet_serve
