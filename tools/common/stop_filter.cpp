#include "stop_filter.h"

#include <algorithm>

namespace bitnet_tools {

StopFilter::StopFilter(std::vector<std::string> stop) : stop_(std::move(stop)) {
    std::erase_if(stop_, [](const std::string &s) { return s.empty(); });
}

bool StopFilter::push(const std::string &piece, std::string *out) {
    pending_ += piece;
    size_t first_stop = std::string::npos;
    for (const std::string &s : stop_) first_stop = std::min(first_stop, pending_.find(s));
    if (first_stop != std::string::npos) {
        out->append(pending_, 0, first_stop);
        pending_.clear();
        return true;
    }
    // Hold back the longest tail of pending_ that is a proper prefix of some stop string (no
    // stop string is whole in pending_, so a longer tail cannot match).
    size_t keep = 0;
    for (const std::string &s : stop_) {
        for (size_t n = std::min(s.size() - 1, pending_.size()); n > keep; --n) {
            if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
        }
    }
    out->append(pending_, 0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return false;
}

void StopFilter::flush(std::string *out) {
    out->append(pending_);
    pending_.clear();
}

}  // namespace bitnet_tools
