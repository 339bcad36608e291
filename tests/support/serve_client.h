// Helpers of the `bitnet serve` tests (test_serve_*.cpp, which link cpp-httplib and nlohmann-json):
// a started server on the tiny synthetic model, a loopback client, and `bitnet run` as the
// reference for generated text.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/server_process.h"
#include "support/test_support.h"

namespace bitnet_test {

using nlohmann::json;

inline std::string tiny_model() { return synthetic_model("tiny", "i2_s"); }

// Threads: one. The machine that runs the tests may be loaded; several threads per process
// contending for a few cores are slower than one (and the output does not depend on it).
inline std::unique_ptr<ServerProcess> start_server(const std::vector<std::string> &extra_args, const std::string &name) {
    std::vector<std::string> args = {"-m", tiny_model(), "-t", "1"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto server = std::make_unique<ServerProcess>(BITNET_CLI_PATH, args, temp_dir() + "/" + name + ".log");
    return server;
}

inline std::unique_ptr<httplib::Client> client_for(int port) {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_connection_timeout(30);
    client->set_read_timeout(180);
    client->set_write_timeout(30);
    return client;
}

// Polls /health until it answers 200 (the model is loaded) or `timeout_s` passes.
inline bool wait_until_ready(int port, double timeout_s = 60) {
    auto client = client_for(port);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < give_up) {
        auto response = client->Get("/health");
        if (response && response->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// What `bitnet run` prints after the prompt for the same model and greedy sampling: the reference
// text. `prompt_tokens` non-empty: --tokens (nothing echoed); else -p prompt (echoed, cut off here).
inline std::string bitnet_run_text(const std::string &prompt, const std::vector<int32_t> &prompt_tokens,
                                   int n_predict, const std::string &tag) {
    std::vector<std::string> argv = {BITNET_CLI_PATH, "run", "-m", tiny_model(), "-t", "1", "--temp", "0",
                                     "-n", std::to_string(n_predict)};
    if (prompt_tokens.empty()) {
        argv.insert(argv.end(), {"-p", prompt});
    } else {
        std::string ids;
        for (int32_t id : prompt_tokens) ids += std::to_string(id) + " ";
        argv.insert(argv.end(), {"--tokens", ids});
    }
    const std::string out = temp_dir() + "/run-" + tag + ".out";
    EXPECT_EQ(run_process(argv, {}, out, temp_dir() + "/run-" + tag + ".err"), 0) << "bitnet run failed";
    const std::vector<uint8_t> bytes = read_file(out);
    std::string text(bytes.begin(), bytes.end());
    if (prompt_tokens.empty()) {
        EXPECT_EQ(text.compare(0, prompt.size(), prompt), 0) << "bitnet run did not echo the prompt";
        text.erase(0, prompt.size());
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();  // run ends its output with a newline
    return text;
}

}  // namespace bitnet_test
