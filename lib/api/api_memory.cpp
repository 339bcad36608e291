// C API: sequence memory operations on a context's KV cache.
#include "api/guard.h"
#include "bitnet.h"
#include "runtime/sequence_memory.h"

namespace {

template <class Body>
bitnet_status with_context(const char *function, bitnet_context *context, Body &&body) {
    return bitnet::api_guard(function, [&] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        body(*context);
    });
}

}  // namespace

extern "C" {

BITNET_API bitnet_status bitnet_memory_clear(bitnet_context *context) {
    return with_context(__func__, context, [](bitnet_context &c) { bitnet::memory_clear(c); });
}

BITNET_API bitnet_status bitnet_seq_rm(bitnet_context *context, int32_t seq, int32_t p0, int32_t p1) {
    return with_context(__func__, context, [&](bitnet_context &c) { bitnet::seq_rm(c, seq, p0, p1); });
}

BITNET_API bitnet_status bitnet_seq_cp(bitnet_context *context, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    return with_context(__func__, context, [&](bitnet_context &c) { bitnet::seq_cp(c, src, dst, p0, p1); });
}

BITNET_API bitnet_status bitnet_seq_keep(bitnet_context *context, int32_t seq) {
    return with_context(__func__, context, [&](bitnet_context &c) { bitnet::seq_keep(c, seq); });
}

BITNET_API bitnet_status bitnet_seq_add(bitnet_context *context, int32_t seq, int32_t p0, int32_t p1, int32_t delta) {
    return with_context(__func__, context, [&](bitnet_context &c) { bitnet::seq_add(c, seq, p0, p1, delta); });
}

BITNET_API int32_t bitnet_seq_pos_min(const bitnet_context *context, int32_t seq) {
    int32_t result = -1;
    bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        result = bitnet::seq_pos_min(*context, seq);
    });
    return result;
}

BITNET_API int32_t bitnet_seq_pos_max(const bitnet_context *context, int32_t seq) {
    int32_t result = -1;
    bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        result = bitnet::seq_pos_max(*context, seq);
    });
    return result;
}

}  // extern "C"
