// Cuts generated text at the first stop string. Text that could still be the beginning of a stop
// string is held back until the next piece shows whether it is one, so a client never receives
// part of a stop string.
#pragma once

#include <string>
#include <vector>

namespace bitnet_serve {

class StopFilter {
public:
    explicit StopFilter(std::vector<std::string> stop = {}) : stop_(std::move(stop)) {}

    // Adds a piece; appends the text that is now safe to send to *out. Returns true when a stop
    // string completed (the text before it is in *out, the rest is dropped).
    bool push(const std::string &piece, std::string *out);
    // The end of generation: whatever was held back is sent.
    void flush(std::string *out);

private:
    std::vector<std::string> stop_;
    std::string pending_;
};

}  // namespace bitnet_serve
