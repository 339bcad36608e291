// The opaque batch: entries appended by the caller, checked by bitnet_decode().
#pragma once

#include <cstdint>
#include <vector>

struct bitnet_batch {
    int32_t capacity = 0;
    std::vector<int32_t> tokens;
    std::vector<int32_t> positions;
    std::vector<uint8_t> want_logits;
    std::vector<int32_t> seq_id_offsets;  // entry i's ids are seq_ids[offsets[i] .. offsets[i+1])
    std::vector<int32_t> seq_ids;

    int32_t size() const { return static_cast<int32_t>(tokens.size()); }
};
