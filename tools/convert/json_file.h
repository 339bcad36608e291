// Reading the JSON files of a Hugging Face checkpoint (config.json, tokenizer.json, ...) through
// nlohmann-json, with field accessors whose errors name the file, the field and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace bitnet::convert {

// A parsed JSON document and the path it came from (for messages).
struct JsonFile {
    std::string path;
    nlohmann::json root;

    // Required fields of the root object. Throw Error(BITNET_ERR_INVALID_MODEL) "<path>: field 'x' ...".
    int64_t required_int(const char *field) const;
    double required_number(const char *field) const;
    std::string required_string(const char *field) const;
    // Optional fields: absent or null -> nullopt; present with the wrong type -> throws.
    std::optional<int64_t> optional_int(const char *field) const;
    std::optional<double> optional_number(const char *field) const;
    std::optional<std::string> optional_string(const char *field) const;
    std::optional<bool> optional_bool(const char *field) const;
};

// Parse `path`. Throws BITNET_ERR_IO when it cannot be read, BITNET_ERR_INVALID_MODEL (with the
// parser's byte position) when it is not valid JSON or its root is not an object.
JsonFile read_json_file(const std::string &path);
// The same from text (tests, and files already in memory).
JsonFile parse_json_text(const std::string &text, const std::string &path);

bool file_exists(const std::string &path);

}  // namespace bitnet::convert
