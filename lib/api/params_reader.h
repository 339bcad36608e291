// Reading a caller's parameter struct (bitnet_*_params) by the size rules the header promises:
// one reader for every struct, so that each one treats older and newer callers alike.
//
// A caller compiled against an older header passes a shorter struct (its struct_size): the
// fields it has are read, the fields appended since keep the library's defaults, and the bytes
// after its struct_size are never touched. A struct_size smaller than the struct_size member
// itself, or larger than the struct this library knows (a caller built against a newer header,
// who may be asking for something this library cannot do), is an invalid argument.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "util/error.h"

namespace bitnet {

// The parameters to use: `defaults` overlaid with the first `given->struct_size` bytes of
// `given`, or `defaults` itself when `given` is NULL. `default_params_function` names the
// function that fills the struct, for the error message.
template <class Params>
Params read_params(const Params *given, const Params &defaults, const char *function,
                   const char *default_params_function) {
    static_assert(std::is_trivially_copyable_v<Params>, "parameter structs are plain C structs");
    static_assert(offsetof(Params, struct_size) == 0, "struct_size comes first");
    if (!given) return defaults;
    const size_t size = given->struct_size;
    if (size < sizeof given->struct_size) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "%s: params->struct_size %zu is too small (fill params with %s())", function,
             size, default_params_function);
    }
    if (size > sizeof(Params)) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "%s: params->struct_size %zu is larger than the %zu bytes this library knows: the program was built "
             "against a newer bitnet.h (fill params with %s() of the library it runs with)",
             function, size, sizeof(Params), default_params_function);
    }
    Params params = defaults;
    std::memcpy(&params, given, size);
    return params;
}

}  // namespace bitnet
