// What the HTTP handlers share: the model, the scheduler, the metrics and the request log.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <httplib.h>

#include "embedder.h"
#include "metrics.h"
#include "request_parser.h"
#include "scheduler.h"
#include "server.h"

namespace bitnet_serve {

struct ServerState {
    explicit ServerState(const ServeOptions &options_) : options(options_) {}

    const ServeOptions &options;
    std::string model_id;                  // the alias, or the model file's name
    std::atomic<bool> ready{false};        // the model is loaded and the scheduler runs
    std::atomic<bool> draining{false};     // SIGTERM: new requests get 503
    bitnet_model *model = nullptr;
    std::unique_ptr<Scheduler> scheduler;
    std::unique_ptr<Embedder> embedder;
    ParseLimits limits;
    Metrics metrics;

    // Requests being handled (streams included until their last byte), for the drain.
    std::atomic<int> in_flight{0};

    // Per request: when it started and the tokens it used, for the one log line written when the
    // response is complete. Keyed by the request object, which lives until then.
    struct LogEntry {
        std::chrono::steady_clock::time_point start;
        int32_t prompt_tokens = 0;
        int32_t completion_tokens = 0;
    };
    std::mutex log_mutex;
    std::unordered_map<const httplib::Request *, LogEntry> log_entries;
    void note_tokens(const httplib::Request &request, int32_t prompt_tokens, int32_t completion_tokens) {
        std::lock_guard<std::mutex> lock(log_mutex);
        auto &entry = log_entries[&request];
        entry.prompt_tokens = prompt_tokens;
        entry.completion_tokens = completion_tokens;
    }
};

// Sends `error` as the response.
void send_error(httplib::Response &response, const ApiError &error);

void add_generation_routes(httplib::Server &server, ServerState &state);
void add_utility_routes(httplib::Server &server, ServerState &state);
void add_embedding_routes(httplib::Server &server, ServerState &state);

}  // namespace bitnet_serve
