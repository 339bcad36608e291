#include "runtime/activation_layout.h"

#include <algorithm>

#include "util/error.h"

namespace bitnet {

int64_t activation_width(const HyperParams &hp, Act act) {
    const int64_t n_embd_kv = static_cast<int64_t>(hp.head_dim) * hp.n_head_kv;
    switch (act) {
        case Act::Residual:
        case Act::Normed:
        case Act::Q:
        case Act::Attention:
        case Act::Projected: return hp.n_embd;
        case Act::K:
        case Act::V: return n_embd_kv;
        case Act::Gate:
        case Act::Up: return hp.n_ff;
        case Act::Count: break;
    }
    fail(BITNET_ERR_INTERNAL, "activation_width: no buffer %d", static_cast<int>(act));
}

int64_t widest_projection_input(const HyperParams &hp) {
    constexpr int64_t kLargestBlock = 256;
    const int64_t widest = std::max(hp.n_embd, hp.n_ff);
    return (widest + kLargestBlock - 1) / kLargestBlock * kLargestBlock;
}

}  // namespace bitnet
