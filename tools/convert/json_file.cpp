#include "convert/json_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace bitnet::convert {
namespace {

[[noreturn]] void bad_field(const JsonFile &file, const char *field, const char *expected) {
    fail(BITNET_ERR_INVALID_MODEL, "%s: field '%s' %s", file.path.c_str(), field, expected);
}

const nlohmann::json *lookup(const JsonFile &file, const char *field) {
    auto it = file.root.find(field);
    if (it == file.root.end() || it->is_null()) return nullptr;
    return &*it;
}

}  // namespace

bool file_exists(const std::string &path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

JsonFile parse_json_text(const std::string &text, const std::string &path) {
    JsonFile file;
    file.path = path;
    try {
        file.root = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error &error) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: not valid JSON at byte %zu: %s", path.c_str(), error.byte, error.what());
    }
    if (!file.root.is_object()) fail(BITNET_ERR_INVALID_MODEL, "%s: the top level is not a JSON object", path.c_str());
    return file;
}

JsonFile read_json_file(const std::string &path) {
    std::ifstream stream(path, std::ios::binary);
    if (!stream) fail(BITNET_ERR_IO, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
    std::ostringstream text;
    text << stream.rdbuf();
    if (stream.bad()) fail(BITNET_ERR_IO, "cannot read '%s'", path.c_str());
    return parse_json_text(text.str(), path);
}

std::optional<int64_t> JsonFile::optional_int(const char *field) const {
    const nlohmann::json *value = lookup(*this, field);
    if (!value) return std::nullopt;
    if (value->is_number_integer()) return value->get<int64_t>();
    // Some configs write integral values as floats (e.g. 4096.0).
    if (value->is_number_float() && value->get<double>() == static_cast<double>(static_cast<int64_t>(value->get<double>()))) {
        return static_cast<int64_t>(value->get<double>());
    }
    bad_field(*this, field, "must be an integer");
}

std::optional<double> JsonFile::optional_number(const char *field) const {
    const nlohmann::json *value = lookup(*this, field);
    if (!value) return std::nullopt;
    if (!value->is_number()) bad_field(*this, field, "must be a number");
    return value->get<double>();
}

std::optional<std::string> JsonFile::optional_string(const char *field) const {
    const nlohmann::json *value = lookup(*this, field);
    if (!value) return std::nullopt;
    if (!value->is_string()) bad_field(*this, field, "must be a string");
    return value->get<std::string>();
}

std::optional<bool> JsonFile::optional_bool(const char *field) const {
    const nlohmann::json *value = lookup(*this, field);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) bad_field(*this, field, "must be true or false");
    return value->get<bool>();
}

int64_t JsonFile::required_int(const char *field) const {
    std::optional<int64_t> value = optional_int(field);
    if (!value) bad_field(*this, field, "is missing (an integer is required)");
    return *value;
}

double JsonFile::required_number(const char *field) const {
    std::optional<double> value = optional_number(field);
    if (!value) bad_field(*this, field, "is missing (a number is required)");
    return *value;
}

std::string JsonFile::required_string(const char *field) const {
    std::optional<std::string> value = optional_string(field);
    if (!value) bad_field(*this, field, "is missing (a string is required)");
    return *value;
}

}  // namespace bitnet::convert
