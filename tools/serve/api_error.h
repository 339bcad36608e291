// An error answered to an HTTP client in OpenAI's shape (https://platform.openai.com/docs/guides/error-codes):
// {"error": {"message": ..., "type": ..., "code": ...}} with the HTTP status that goes with it.
#pragma once

#include <string>

namespace bitnet_serve {

struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string code;  // machine-readable, e.g. "invalid_value"; "" is sent as null
};

inline ApiError bad_request(std::string message, std::string code = "invalid_value") {
    return ApiError{400, std::move(message), "invalid_request_error", std::move(code)};
}

// The JSON body of the error.
std::string error_body(const ApiError &error);

}  // namespace bitnet_serve
