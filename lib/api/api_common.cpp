// Version, build information and status names.
#include <string>

#include "api/guard.h"
#include "bitnet.h"
#include "api/build_info.h"
#include "util/c_enum.h"

extern "C" {

BITNET_API const char *bitnet_version(void) {
    return BITNET_VERSION_STRING;
}

BITNET_API int bitnet_version_number(void) { return BITNET_VERSION_NUMBER; }

BITNET_API const char *bitnet_build_info(void) {
    static const std::string info = bitnet::describe_build();
    return info.c_str();
}

BITNET_API const char *bitnet_status_string(bitnet_status status) {
    // Switch on the integer: a C caller may pass any int (util/c_enum.h).
    switch (bitnet::c_enum_bits(status)) {
        case BITNET_OK: return "ok";
        case BITNET_ERR_INVALID_ARGUMENT: return "invalid argument";
        case BITNET_ERR_IO: return "i/o error";
        case BITNET_ERR_INVALID_MODEL: return "invalid model";
        case BITNET_ERR_UNSUPPORTED: return "unsupported";
        case BITNET_ERR_OUT_OF_MEMORY: return "out of memory";
        case BITNET_ERR_CANCELLED: return "cancelled";
        case BITNET_ERR_CONTEXT_FULL: return "context full";
        case BITNET_ERR_INVALID_INPUT: return "invalid input";
        case BITNET_ERR_ABORTED: return "aborted";
        case BITNET_ERR_BACKEND: return "backend failure";
        case BITNET_ERR_BUFFER_TOO_SMALL: return "buffer too small";
        case BITNET_ERR_INVALID_STATE: return "invalid state";
        case BITNET_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

BITNET_API const char *bitnet_last_error(void) { return bitnet::last_error(); }

BITNET_API bitnet_status bitnet_last_status(void) { return bitnet::last_status(); }

}  // extern "C"
