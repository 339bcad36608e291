// A `bitnet serve` child process for the server tests: started on a free port (--port 0; the port
// is read from its "listening on" line), stopped with SIGTERM (or killed) when the test ends.
#pragma once

#include <string>
#include <vector>

namespace bitnet_test {

class ServerProcess {
public:
    // Starts `bitnet serve ARGS --port 0` with stderr written to `log_path`. port() is 0 when it
    // did not start listening within `timeout_s`.
    ServerProcess(const std::string &bitnet, const std::vector<std::string> &args, const std::string &log_path,
                  double timeout_s = 60);
    ~ServerProcess();  // SIGKILL if still running
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    int port() const { return port_; }
    int pid() const { return pid_; }
    std::string log() const;  // everything it wrote to stderr so far
    // Sends `signal_number` and waits up to timeout_s for the exit. Returns the exit status,
    // 128 + signal when killed by one, or -1 when it did not exit in time.
    int stop(int signal_number, double timeout_s);

private:
    int pid_ = -1;
    int port_ = 0;
    std::string log_path_;
};

}  // namespace bitnet_test
