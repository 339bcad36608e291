// The server's life: bind, load the model while /health says "loading", serve, drain on SIGTERM.
// Also what every request goes through: the API key check, the JSON body of bare HTTP errors and
// the one log line.
#include "server.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

#include <pthread.h>

#include "server_state.h"

namespace bitnet_serve {

void send_error(httplib::Response &response, const ApiError &error) {
    response.status = error.status;
    response.set_content(error_body(error), "application/json");
}

namespace {

// Compares every byte whatever the first difference, so the time taken does not tell a client how
// much of a guessed key was right.
bool constant_time_equal(const std::string &a, const std::string &b) {
    const size_t n = std::max(a.size(), b.size());
    unsigned difference = a.size() == b.size() ? 0u : 1u;
    for (size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        difference |= static_cast<unsigned>(x ^ y);
    }
    return difference == 0;
}

std::string file_name_stem(const std::string &path) {
    std::string name = path.substr(path.find_last_of('/') + 1);
    const size_t dot = name.rfind(".gguf");
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// --draft-model / --lookup: the draft model and context (one sequence per slot) and the helper.
// false (after printing why, with everything made here freed) on failure.
bool set_up_speculative(const ServeOptions &options, bitnet_context *context, const bitnet_context_params &params,
                        SpeculativeSetup *out) {
    SpeculativeSetup setup;
    setup.draft_max = options.draft_max;
    bool ok = true;
    if (!options.draft_model_path.empty()) {
        bitnet_model_params model_params = bitnet_model_default_params();
        bitnet_context_params draft_params = params;
        draft_params.n_ctx = bitnet_context_n_ctx(context);
        draft_params.n_outputs_max = 0;
        ok = bitnet_model_load_file(options.draft_model_path.c_str(), &model_params, &setup.draft_model) == BITNET_OK &&
             bitnet_context_new(setup.draft_model, &draft_params, &setup.draft_context) == BITNET_OK;
    }
    if (ok) {
        bitnet_speculative_params speculative = bitnet_speculative_default_params();
        speculative.draft_context = setup.draft_context;
        speculative.draft_max = options.draft_max;
        if (options.lookup > 0) speculative.lookup_ngram = options.lookup;
        ok = bitnet_speculative_new(context, &speculative, &setup.helper) == BITNET_OK;
    }
    if (!ok) {
        std::fprintf(stderr, "bitnet serve: cannot set up speculative decoding: %s\n", bitnet_last_error());
        bitnet_context_free(setup.draft_context);
        bitnet_model_free(setup.draft_model);
        return false;
    }
    *out = setup;
    return true;
}

// Loads the model and starts the scheduler; false (after printing why) on failure.
bool load(ServerState &state) {
    const ServeOptions &options = state.options;
    bitnet_model_params model_params = bitnet_model_default_params();
    if (bitnet_model_load_file(options.model_path.c_str(), &model_params, &state.model) != BITNET_OK) {
        std::fprintf(stderr, "bitnet serve: cannot load %s: %s\n", options.model_path.c_str(), bitnet_last_error());
        return false;
    }
    bitnet_context_params params = bitnet_context_default_params();
    params.n_ctx = options.n_ctx;
    params.n_seq_max = static_cast<uint32_t>(options.parallel);
    params.n_threads = options.n_threads;
    params.backend = options.backend;
    const bool speculate = !options.draft_model_path.empty() || options.lookup > 0;
    // The verification of draft_max drafts asks for draft_max + 1 logits in one decode.
    if (speculate) params.n_outputs_max = std::max<uint32_t>(params.n_seq_max, static_cast<uint32_t>(options.draft_max) + 1);
    bitnet_context *context = nullptr;
    if (bitnet_context_new(state.model, &params, &context) != BITNET_OK) {
        std::fprintf(stderr, "bitnet serve: cannot create the context: %s\n", bitnet_last_error());
        return false;
    }
    SpeculativeSetup speculative;
    if (speculate && !set_up_speculative(options, context, params, &speculative)) {
        bitnet_context_free(context);
        return false;
    }
    Metrics &metrics = state.metrics;
    auto on_finished = [&metrics](const Job &job, const JobOutcome &outcome) {
        const double seconds = std::chrono::duration<double>(Clock::now() - job.created).count();
        metrics.record_generation(outcome.prompt_tokens, outcome.cached_tokens, outcome.completion_tokens,
                                  outcome.time_to_first_token_s, seconds, job.cancelled);
    };
    state.scheduler = std::make_unique<Scheduler>(context, options.parallel, options.max_queue, on_finished, speculative);
    state.embedder = std::make_unique<Embedder>(state.model, params,
                                                static_cast<uint32_t>(state.scheduler->slot_context()));
    state.limits.n_vocab = bitnet_model_n_vocab(state.model);
    state.limits.max_tokens = options.max_tokens;
    std::fprintf(stderr, "bitnet serve: model %s loaded as '%s': %d slots of %d tokens, %s\n", options.model_path.c_str(),
                 state.model_id.c_str(), options.parallel, state.scheduler->slot_context(),
                 bitnet_context_backend_name(context));
    state.ready = true;
    return true;
}

void install_request_hooks(httplib::Server &server, ServerState &state) {
    server.set_pre_routing_handler([&state](const httplib::Request &request, httplib::Response &response) {
        {
            std::lock_guard<std::mutex> lock(state.log_mutex);
            state.log_entries[&request].start = std::chrono::steady_clock::now();
        }
        ++state.in_flight;
        // /health is for load balancers; / is the static chat page, which holds no data and sends
        // the key the user types with its API calls.
        if (request.path == "/health" || request.path == "/") return httplib::Server::HandlerResponse::Unhandled;
        if (!state.options.api_key.empty()) {
            const std::string authorization = request.get_header_value("Authorization");
            const std::string prefix = "Bearer ";
            const bool bearer = authorization.compare(0, prefix.size(), prefix) == 0;
            if (!bearer || !constant_time_equal(authorization.substr(prefix.size()), state.options.api_key)) {
                send_error(response, ApiError{401, "a valid API key is needed: send 'Authorization: Bearer KEY'",
                                              "invalid_request_error", "invalid_api_key"});
                return httplib::Server::HandlerResponse::Handled;
            }
        }
        if (state.draining) {
            send_error(response, ApiError{503, "the server is shutting down", "server_error", "shutting_down"});
            return httplib::Server::HandlerResponse::Handled;
        }
        if (!state.ready) {
            send_error(response, ApiError{503, "the model is loading", "server_error", "loading"});
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // Errors httplib answers itself (no route, body too large, unreadable request) get a JSON body too.
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request &, httplib::Response &response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const int status = response.status;
        ApiError error{status, "HTTP error " + std::to_string(status), "invalid_request_error", ""};
        if (status == 404) error = ApiError{404, "no such endpoint", "invalid_request_error", "not_found"};
        if (status == 413) error = ApiError{413, "the request body is too large", "invalid_request_error", "body_too_large"};
        send_error(response, error);
        return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler([](const httplib::Request &, httplib::Response &response, std::exception_ptr) {
        send_error(response, ApiError{500, "internal error", "server_error", "internal_error"});
    });
    server.set_logger([&state](const httplib::Request &request, const httplib::Response &response) {
        ServerState::LogEntry entry;
        {
            std::lock_guard<std::mutex> lock(state.log_mutex);
            auto found = state.log_entries.find(&request);
            if (found != state.log_entries.end()) {
                entry = found->second;
                state.log_entries.erase(found);
            } else {
                entry.start = std::chrono::steady_clock::now();  // answered before routing (e.g. 413)
                ++state.in_flight;
            }
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - entry.start).count();
        std::fprintf(stderr, "[serve] %s %s %d prompt_tokens=%d completion_tokens=%d %.1f ms\n", request.method.c_str(),
                     request.path.c_str(), response.status, entry.prompt_tokens, entry.completion_tokens, ms);
        state.metrics.record_request(response.status);
        --state.in_flight;
    });
}

// The stop signal received, 0 until then. A handler rather than a blocked mask and sigwait: threads
// that libraries started before main() (OpenBLAS's pool, linked into the bitnet tool) do not
// block the signal, and the kernel may hand it to any of them.
volatile std::sig_atomic_t stop_signal = 0;
extern "C" void remember_stop_signal(int signal_number) { stop_signal = signal_number; }

// Waits for SIGTERM or SIGINT, then drains.
void watch_signals(httplib::Server &server, ServerState &state, const std::atomic<bool> &finished) {
    while (!finished && stop_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (finished) return;
    const int signal_number = stop_signal;
    std::fprintf(stderr, "bitnet serve: %s: finishing %d running requests, accepting no new ones\n",
                 signal_number == SIGTERM ? "SIGTERM" : "SIGINT", state.in_flight.load());
    state.draining = true;
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::microseconds(static_cast<int64_t>(state.options.timeout_s * 1e6));
    while (state.in_flight > 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    server.stop();
}

}  // namespace

int run_server(const ServeOptions &options) {
    struct sigaction on_stop {};
    on_stop.sa_handler = remember_stop_signal;
    sigemptyset(&on_stop.sa_mask);
    sigaction(SIGTERM, &on_stop, nullptr);
    sigaction(SIGINT, &on_stop, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a client that hung up is a failed write, not a death

    ServerState state(options);
    state.model_id = options.alias.empty() ? file_name_stem(options.model_path) : options.alias;
    httplib::Server server;
    const size_t threads = static_cast<size_t>(options.parallel) + options.max_queue + 8;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_payload_max_length(options.max_body_bytes);
    install_request_hooks(server, state);
    add_utility_routes(server, state);
    add_generation_routes(server, state);
    add_embedding_routes(server, state);

    int port = options.port;
    if (port == 0) port = server.bind_to_any_port(options.host);
    else if (!server.bind_to_port(options.host, port)) port = -1;
    if (port <= 0) {
        std::fprintf(stderr, "bitnet serve: cannot listen on %s:%d\n", options.host.c_str(), options.port);
        return 1;
    }
    std::fprintf(stderr, "bitnet serve: listening on http://%s:%d\n", options.host.c_str(), port);
    std::fflush(stderr);

    std::atomic<bool> finished{false}, load_failed{false};
    std::thread signal_thread([&] { watch_signals(server, state, finished); });
    std::thread loader([&] {
        if (!load(state)) {
            load_failed = true;
            while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            server.stop();
        }
    });
    server.listen_after_bind();
    loader.join();
    finished = true;
    signal_thread.join();
    state.scheduler.reset();
    state.embedder.reset();
    bitnet_model_free(state.model);
    if (load_failed) return 1;
    std::fprintf(stderr, "bitnet serve: stopped\n");
    return 0;
}

}  // namespace bitnet_serve
