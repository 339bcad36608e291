// The text behind bitnet_build_info(): compiler, CPU kernel variants, backends.
#pragma once

#include <string>

#define BITNET_STRINGIFY_INNER(x) #x
#define BITNET_STRINGIFY(x) BITNET_STRINGIFY_INNER(x)
#define BITNET_VERSION_STRING                                                                  \
    BITNET_STRINGIFY(BITNET_VERSION_MAJOR) "." BITNET_STRINGIFY(BITNET_VERSION_MINOR) "." BITNET_STRINGIFY( \
        BITNET_VERSION_PATCH)

namespace bitnet {

std::string describe_build();

}  // namespace bitnet
