#include "metrics.h"

#include <cstdio>

namespace bitnet_serve {

namespace {
std::string number(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}
}  // namespace

void Histogram::observe(double value) {
    for (size_t i = 0; i < bounds_.size(); ++i) {
        if (value <= bounds_[i]) {
            ++counts_[i];
            break;
        }
    }
    ++count_;
    sum_ += value;
}

std::string Histogram::render(const std::string &name, const std::string &help) const {
    std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
    out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
    return out;
}

Metrics::Metrics()
    : time_to_first_token_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      request_latency_({0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}) {}

void Metrics::record_request(int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_by_status_[status];
}

void Metrics::record_generation(int32_t prompt_tokens, int32_t cached_tokens, int32_t completion_tokens,
                                double time_to_first_token_s, double seconds, bool cancelled) {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ += cancelled ? 1 : 0;
    prompt_tokens_ += static_cast<uint64_t>(prompt_tokens);
    prompt_tokens_cached_ += static_cast<uint64_t>(cached_tokens);
    generated_tokens_ += static_cast<uint64_t>(completion_tokens);
    generation_seconds_ += seconds;
    if (completion_tokens > 0) time_to_first_token_.observe(time_to_first_token_s);
    request_latency_.observe(seconds);
}

std::string Metrics::render(const SchedulerStats &stats) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out = "# HELP bitnet_requests_total HTTP requests answered, by status.\n"
                      "# TYPE bitnet_requests_total counter\n";
    for (const auto &[status, count] : requests_by_status_) {
        out += "bitnet_requests_total{status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
    }
    auto counter = [&](const char *name, const char *help, const std::string &value, const char *type) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
               value + "\n";
    };
    counter("bitnet_prompt_tokens_total", "Prompt tokens of finished generations.", std::to_string(prompt_tokens_),
            "counter");
    counter("bitnet_prompt_tokens_cached_total", "Prompt tokens found in the KV cache (not reprocessed).",
            std::to_string(prompt_tokens_cached_), "counter");
    counter("bitnet_generated_tokens_total", "Generated tokens.", std::to_string(generated_tokens_), "counter");
    counter("bitnet_requests_cancelled_total", "Generations stopped because the client went away.",
            std::to_string(cancelled_), "counter");
    counter("bitnet_generated_tokens_per_second",
            "Generated tokens per second of request time, over all finished requests.",
            number(generation_seconds_ > 0 ? static_cast<double>(generated_tokens_) / generation_seconds_ : 0.0),
            "gauge");
    out += time_to_first_token_.render("bitnet_time_to_first_token_seconds", "Time from request to first token.");
    out += request_latency_.render("bitnet_request_duration_seconds", "Time from request to its last token.");
    counter("bitnet_slots_busy", "Slots generating or reading a prompt.", std::to_string(stats.busy_slots), "gauge");
    counter("bitnet_queue_length", "Requests waiting for a slot.", std::to_string(stats.queued), "gauge");
    counter("bitnet_kv_cells_used", "KV cache cells held by the slots' sequences.", std::to_string(stats.kv_cells_used),
            "gauge");
    return out;
}

}  // namespace bitnet_serve
