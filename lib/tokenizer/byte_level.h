// GPT-2's byte-level alphabet (bytes_to_unicode, formats.md §4.4): every byte is written as one
// printable code point, so byte-level BPE vocabularies and merges are valid text. Bytes 0x21-0x7E,
// 0xA1-0xAC and 0xAE-0xFF stand for themselves; the other 68 take U+0100 upwards in byte order.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/utf8.h"

namespace bitnet::byte_level {

constexpr bool stands_for_itself(uint32_t byte) {
    return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

// The code point that stands for each byte.
constexpr std::array<uint16_t, 256> make_code_points() {
    std::array<uint16_t, 256> table{};
    uint16_t next_extra = 0x100;
    for (uint32_t byte = 0; byte < 256; ++byte) {
        table[byte] = stands_for_itself(byte) ? static_cast<uint16_t>(byte) : next_extra++;
    }
    return table;
}
inline constexpr std::array<uint16_t, 256> kCodePointOfByte = make_code_points();

// The byte a code point stands for, or -1 when it is not in the alphabet (all lie below U+0144).
inline int byte_of_code_point(uint32_t code_point) {
    static constexpr auto table = [] {
        std::array<int16_t, 0x144> inverse{};
        for (auto &entry : inverse) entry = -1;
        for (uint32_t byte = 0; byte < 256; ++byte) inverse[kCodePointOfByte[byte]] = static_cast<int16_t>(byte);
        return inverse;
    }();
    return code_point < table.size() ? table[code_point] : -1;
}

// The alphabet's spelling of one byte (1 or 2 bytes of UTF-8).
inline std::string encode_byte(uint8_t byte) {
    std::string out;
    utf8::append(out, kCodePointOfByte[byte]);
    return out;
}

// Append the bytes a byte-level text stands for. Characters outside the alphabet are copied as
// they are; returns false if there were any.
inline bool decode(std::string_view text, std::string &out) {
    bool clean = true;
    const auto *bytes = reinterpret_cast<const uint8_t *>(text.data());
    for (size_t pos = 0; pos < text.size();) {
        utf8::Unit unit = utf8::decode(bytes + pos, text.size() - pos);
        int byte = unit.code_point == utf8::kInvalid ? -1 : byte_of_code_point(unit.code_point);
        if (byte >= 0) {
            out += static_cast<char>(byte);
        } else {
            out.append(text.data() + pos, unit.length);
            clean = false;
        }
        pos += unit.length;
    }
    return clean;
}

}  // namespace bitnet::byte_level
