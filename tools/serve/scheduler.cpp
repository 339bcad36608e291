#include "scheduler.h"

#include <algorithm>
#include <cmath>

#include "sampler_chain.h"
#include "../common/stop_filter.h"

namespace bitnet_serve {

struct Scheduler::Slot {
    int32_t seq = 0;
    std::shared_ptr<Job> job;              // null while free
    std::vector<bitnet_token> cached;      // the tokens whose keys and values sequence `seq` holds, in order
    size_t prompt_next = 0;                // the next prompt token to decode
    bitnet_token next_token = BITNET_TOKEN_NULL;  // sampled, decoded at the next step
    int32_t generated = 0;
    bitnet_sampler *sampler = nullptr;
    bitnet_detokenizer *detokenizer = nullptr;
    bitnet_tools::StopFilter filter;
    JobOutcome outcome;

    // This step's part of the batch.
    int32_t logits_index = -1;
    size_t tokens_in_batch = 0;

    ~Slot() {
        bitnet_sampler_free(sampler);
        bitnet_detokenizer_free(detokenizer);
    }
    bool busy() const { return job != nullptr; }
    bool reading_prompt() const { return busy() && prompt_next < job->prompt.size(); }
};

Scheduler::Scheduler(bitnet_context *context, int32_t n_slots, size_t max_queue, FinishedCallback on_finished,
                     SpeculativeSetup speculative)
    : context_(context), model_(bitnet_context_model(context)),
      slot_context_(static_cast<int32_t>(bitnet_context_n_ctx(context)) / n_slots), max_queue_(max_queue),
      on_finished_(std::move(on_finished)), speculative_(speculative) {
    bitnet_batch_new(static_cast<int32_t>(bitnet_context_n_batch(context)), &batch_);
    for (int32_t seq = 0; seq < n_slots; ++seq) {
        slots_.push_back(std::make_unique<Slot>());
        slots_.back()->seq = seq;
    }
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    const ApiError shutdown{503, "the server is shutting down", "server_error", "shutting_down"};
    for (auto &slot : slots_) {
        if (slot->busy()) end_job(*slot, shutdown);
    }
    for (auto &job : queue_) {
        JobOutcome outcome;
        outcome.error = shutdown;
        finish(*job, outcome);
    }
    slots_.clear();
    bitnet_batch_free(batch_);
    bitnet_speculative_free(speculative_.helper);
    bitnet_context_free(speculative_.draft_context);
    bitnet_model_free(speculative_.draft_model);
    bitnet_context_free(context_);
}

bool Scheduler::submit(std::shared_ptr<Job> job) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Jobs pass through the queue on their way to a slot: free slots add to its room.
        const size_t free_slots = slots_.size() - static_cast<size_t>(stats_.busy_slots);
        if (stopping_ || queue_.size() >= max_queue_ + free_slots) return false;
        queue_.push_back(std::move(job));
        stats_.queued = static_cast<int32_t>(queue_.size());
    }
    wake_.notify_all();
    return true;
}

SchedulerStats Scheduler::stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

void Scheduler::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        // Slots change only on this thread, so reading busy() under the lock is safe.
        wake_.wait(lock, [&] {
            return stopping_ || !queue_.empty() ||
                   std::any_of(slots_.begin(), slots_.end(), [](const auto &slot) { return slot->busy(); });
        });
        if (stopping_) return;
        step(lock);
    }
}

namespace {

// Calls a bitnet count-returning text function, growing the buffer when it asks for more.
template <typename Call>
std::string text_of(Call call) {
    std::string text(128, '\0');
    int32_t n = call(text.data(), static_cast<int32_t>(text.size()));
    if (n < 0 && n != BITNET_COUNT_ERROR) {
        text.resize(static_cast<size_t>(-n));
        n = call(text.data(), static_cast<int32_t>(text.size()));
    }
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return text;
}

size_t common_prefix(const std::vector<bitnet_token> &a, const std::vector<bitnet_token> &b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

}  // namespace

void Scheduler::step(std::unique_lock<std::mutex> &lock) {
    // Queued jobs take free slots: each the free slot sharing the longest prefix with its prompt.
    const auto now = Clock::now();
    while (!queue_.empty()) {
        std::shared_ptr<Job> job = queue_.front();
        if (job->cancelled || now > job->deadline) {
            queue_.pop_front();
            JobOutcome outcome;
            if (!job->cancelled) outcome.error = ApiError{408, "the request timed out in the queue", "timeout_error", "timeout"};
            finish(*job, outcome);
            continue;
        }
        Slot *best = nullptr;
        size_t best_prefix = 0;
        for (auto &slot : slots_) {
            if (slot->busy()) continue;
            const size_t prefix = common_prefix(slot->cached, job->prompt);
            if (!best || prefix > best_prefix) best = slot.get(), best_prefix = prefix;
        }
        if (!best) break;
        queue_.pop_front();
        start_job(*best, std::move(job));
    }
    stats_.queued = static_cast<int32_t>(queue_.size());
    lock.unlock();

    // Cancelled and timed-out jobs leave before the batch is built.
    for (auto &slot : slots_) {
        if (!slot->busy()) continue;
        if (slot->job->cancelled) end_job(*slot, ApiError{499, "the client closed the request", "cancelled", "cancelled"});
        else if (now > slot->job->deadline) end_job(*slot, ApiError{408, "the request timed out", "timeout_error", "timeout"});
    }

    // With speculative decoding each generating slot verifies its own drafts in its own decode.
    if (speculative_.helper) {
        for (auto &slot : slots_) {
            if (slot->busy() && slot->next_token != BITNET_TOKEN_NULL) speculate(*slot);
        }
    }

    // One batch: every generating slot's next token first (one each), then prompt chunks.
    bitnet_batch_clear(batch_);
    int32_t budget = static_cast<int32_t>(bitnet_context_n_batch(context_));
    int32_t entries = 0;
    for (auto &slot : slots_) {
        slot->logits_index = -1;
        slot->tokens_in_batch = 0;
        if (!slot->busy() || slot->next_token == BITNET_TOKEN_NULL || speculative_.helper) continue;
        bitnet_batch_add(batch_, slot->next_token, static_cast<int32_t>(slot->cached.size()), &slot->seq, 1, true);
        slot->logits_index = entries++;
        slot->tokens_in_batch = 1;
        --budget;
    }
    for (auto &slot : slots_) {
        if (!slot->reading_prompt() || budget <= 0) continue;
        const std::vector<bitnet_token> &prompt = slot->job->prompt;
        const size_t chunk = std::min(prompt.size() - slot->prompt_next, static_cast<size_t>(budget));
        for (size_t k = 0; k < chunk; ++k) {
            const size_t index = slot->prompt_next + k;
            const bool last = index + 1 == prompt.size();
            bitnet_batch_add(batch_, prompt[index], static_cast<int32_t>(index), &slot->seq, 1, last);
            if (last) slot->logits_index = entries;
            ++entries;
        }
        slot->tokens_in_batch = chunk;
        budget -= static_cast<int32_t>(chunk);
    }

    if (entries > 0) {
        const bitnet_status status = bitnet_decode(context_, batch_);
        for (auto &slot : slots_) {
            if (slot->tokens_in_batch == 0) continue;
            if (status != BITNET_OK) {
                end_job(*slot, ApiError{500, std::string("decode failed: ") + bitnet_status_string(status) + ": " +
                                                 bitnet_last_error(),
                                        "server_error", "decode_failed"});
                continue;
            }
            if (slot->next_token != BITNET_TOKEN_NULL) {
                slot->cached.push_back(slot->next_token);
                slot->next_token = BITNET_TOKEN_NULL;
            } else {
                const auto &prompt = slot->job->prompt;
                slot->cached.insert(slot->cached.end(), prompt.begin() + static_cast<std::ptrdiff_t>(slot->prompt_next),
                                    prompt.begin() + static_cast<std::ptrdiff_t>(slot->prompt_next + slot->tokens_in_batch));
                slot->prompt_next += slot->tokens_in_batch;
            }
            if (slot->logits_index >= 0) sample_next(*slot, slot->logits_index);
        }
    }

    lock.lock();
    stats_.busy_slots = 0;
    stats_.kv_cells_used = 0;
    for (auto &slot : slots_) {
        stats_.busy_slots += slot->busy() ? 1 : 0;
        stats_.kv_cells_used += static_cast<int64_t>(slot->cached.size());
    }
}

void Scheduler::start_job(Slot &slot, std::shared_ptr<Job> job) {
    // Keep the cached prefix, but always decode at least the prompt's last token: its logits
    // give the first sampled token.
    size_t keep = common_prefix(slot.cached, job->prompt);
    if (keep == job->prompt.size()) --keep;
    bitnet_seq_rm(context_, slot.seq, static_cast<int32_t>(keep), -1);
    slot.cached.resize(keep);
    slot.prompt_next = keep;
    slot.next_token = BITNET_TOKEN_NULL;
    slot.generated = 0;
    slot.outcome = JobOutcome{};
    slot.outcome.prompt_tokens = static_cast<int32_t>(job->prompt.size());
    slot.outcome.cached_tokens = static_cast<int32_t>(keep);
    slot.outcome.speculative = speculative_.helper != nullptr;
    bitnet_sampler_free(slot.sampler);
    slot.sampler = make_sampler_chain(job->sampling, bitnet_model_n_vocab(model_));
    bitnet_detokenizer_free(slot.detokenizer);
    slot.detokenizer = nullptr;
    bitnet_detokenizer_new(model_, false, &slot.detokenizer);
    slot.filter = bitnet_tools::StopFilter(job->stop);
    slot.job = std::move(job);
    if (!slot.sampler || !slot.detokenizer) {
        end_job(slot, ApiError{500, std::string("could not set up sampling: ") + bitnet_last_error(), "server_error",
                               "sampler_failed"});
    }
}

void Scheduler::end_job(Slot &slot, std::optional<ApiError> error) {
    if (!error && slot.detokenizer) {
        const std::string rest = text_of([&](char *buf, int32_t capacity) {
            return bitnet_detokenizer_flush(slot.detokenizer, buf, capacity);
        });
        std::string text;
        if (!slot.filter.push(rest, &text)) slot.filter.flush(&text);
        slot.job->send_text(std::move(text));
    }
    slot.outcome.completion_tokens = slot.generated;
    slot.outcome.error = std::move(error);
    finish(*slot.job, slot.outcome);
    slot.job.reset();
    slot.next_token = BITNET_TOKEN_NULL;
}

void Scheduler::finish(Job &job, const JobOutcome &outcome) {
    if (on_finished_) on_finished_(job, outcome);
    job.finish(outcome);
}

bool Scheduler::sample_next(Slot &slot, int32_t batch_index) {
    const bitnet_token token = bitnet_sampler_sample(slot.sampler, context_, batch_index);
    if (token == BITNET_TOKEN_NULL) {
        end_job(slot, ApiError{500, std::string("sampling failed: ") + bitnet_last_error(), "server_error",
                               "sampling_failed"});
        return false;
    }
    return take_token(slot, token);
}

// A generated token: sent as text, or the end of the job (end-of-generation token, stop string,
// max_tokens). true when the job goes on, with `token` as the slot's next token.
bool Scheduler::take_token(Slot &slot, bitnet_token token) {
    if (slot.generated == 0) {
        slot.outcome.time_to_first_token_s = std::chrono::duration<double>(Clock::now() - slot.job->created).count();
    }
    if (bitnet_token_is_eog(model_, token)) {
        slot.outcome.finish_reason = "stop";
        end_job(slot, std::nullopt);
        return false;
    }
    ++slot.generated;
    const std::string piece = text_of([&](char *buf, int32_t capacity) {
        return bitnet_detokenizer_push(slot.detokenizer, token, buf, capacity);
    });
    std::string text;
    const bool stopped = slot.filter.push(piece, &text);
    slot.job->send_text(std::move(text));
    if (stopped) {
        slot.outcome.finish_reason = "stop";
        bitnet_detokenizer_free(slot.detokenizer);  // nothing after a stop string is sent
        slot.detokenizer = nullptr;
        end_job(slot, std::nullopt);
        return false;
    }
    if (slot.generated >= slot.job->max_tokens) {
        slot.outcome.finish_reason = "length";
        end_job(slot, std::nullopt);
        return false;
    }
    slot.next_token = token;
    return true;
}

// The slot's pending token and up to draft_max drafted ones go through the target in one decode;
// the tokens the helper returns are taken one by one as if sampled one per step.
void Scheduler::speculate(Slot &slot) {
    std::vector<bitnet_token> sequence = slot.cached;
    sequence.push_back(slot.next_token);
    const int32_t room = std::min(speculative_.draft_max + 1, slot.job->max_tokens - slot.generated);
    bitnet_speculative_stats before{}, after{};
    before.struct_size = after.struct_size = sizeof before;
    bitnet_speculative_get_stats(speculative_.helper, &before);
    std::vector<bitnet_token> out(static_cast<size_t>(std::max(room, 1)));
    const int32_t n = bitnet_speculative_generate(speculative_.helper, slot.sampler, slot.seq, sequence.data(),
                                                  static_cast<int32_t>(sequence.size()), out.data(), std::max(room, 1));
    if (n < 1) {
        // The helper left the target as it was: every token but the pending one.
        end_job(slot, ApiError{500, std::string("speculative decoding failed: ") + bitnet_last_error(), "server_error",
                               "decode_failed"});
        return;
    }
    bitnet_speculative_get_stats(speculative_.helper, &after);
    slot.outcome.draft_n += after.n_drafted - before.n_drafted;
    slot.outcome.draft_n_accepted += after.n_accepted - before.n_accepted;
    // The cache now holds the sequence and every returned token but the last, which is pending.
    slot.cached = std::move(sequence);
    slot.cached.insert(slot.cached.end(), out.begin(), out.begin() + (n - 1));
    slot.next_token = BITNET_TOKEN_NULL;
    for (int32_t i = 0; i < n; ++i) {
        if (!take_token(slot, out[static_cast<size_t>(i)])) return;
    }
}

}  // namespace bitnet_serve
