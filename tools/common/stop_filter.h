// Cuts generated text at the first stop string, for `bitnet run`/`chat` (tools/cli/generation.cpp)
// and `bitnet serve` (tools/serve/scheduler.cpp). Text that could still be the beginning of a stop
// string is held back until the next piece shows whether it is one, so neither a terminal nor an
// HTTP client ever receives part of a stop string. Standard C++ only: the CLI's model commands are
// compiled against bitnet.h alone (tests/layout/test_public_api_only.sh).
#pragma once

#include <string>
#include <vector>

namespace bitnet_tools {

class StopFilter {
public:
    // Empty stop strings are ignored, as llama-server means to (tools/server/server.cpp,
    // params_from_json_cmpl: `if (!word.empty()) params.antiprompt.push_back(word)`): an empty
    // string is in every text, so honouring it would end every generation before its first piece.
    explicit StopFilter(std::vector<std::string> stop = {});

    // Adds a piece; appends the text that is now safe to send to *out. Returns true when a stop
    // string completed: the text before the earliest one (by position, whichever string it is) is
    // in *out and the rest is dropped.
    bool push(const std::string &piece, std::string *out);
    // The end of generation: whatever was held back is sent.
    void flush(std::string *out);

private:
    std::vector<std::string> stop_;  // none empty
    std::string pending_;
};

}  // namespace bitnet_tools
