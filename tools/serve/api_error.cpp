#include "api_error.h"

#include <nlohmann/json.hpp>

namespace bitnet_serve {

std::string error_body(const ApiError &error) {
    nlohmann::json body = {{"error",
                            {{"message", error.message},
                             {"type", error.type},
                             {"code", error.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.code)}}}};
    // Replace, not throw, on invalid UTF-8: a message may quote the client's bytes.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace bitnet_serve
