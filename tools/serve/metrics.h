// Counters for GET /metrics, written in the Prometheus text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler.h"

namespace bitnet_serve {

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
    void observe(double value);
    // "# TYPE name histogram" and its _bucket, _sum and _count lines.
    std::string render(const std::string &name, const std::string &help) const;

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket, not cumulative
    uint64_t count_ = 0;
    double sum_ = 0.0;
};

class Metrics {
public:
    Metrics();
    void record_request(int status);
    // A generation ended; `cancelled`: its client went away first.
    void record_generation(int32_t prompt_tokens, int32_t cached_tokens, int32_t completion_tokens,
                           double time_to_first_token_s, double seconds, bool cancelled);
    std::string render(const SchedulerStats &stats);

private:
    std::mutex mutex_;
    std::map<int, uint64_t> requests_by_status_;
    uint64_t prompt_tokens_ = 0, prompt_tokens_cached_ = 0, generated_tokens_ = 0;
    double generation_seconds_ = 0.0;
    uint64_t cancelled_ = 0;
    Histogram time_to_first_token_;
    Histogram request_latency_;
};

}  // namespace bitnet_serve
