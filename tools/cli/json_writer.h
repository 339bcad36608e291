// Minimal JSON output helpers for the CLI's --json modes.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace bitnet_cli {

// `text` as a JSON string literal, quotes included; bytes that are not valid UTF-8 are kept
// as they are only if printable ASCII, otherwise escaped as \u00XX.
inline std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

}  // namespace bitnet_cli
