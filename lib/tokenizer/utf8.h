// Strict UTF-8 decoding and encoding (Unicode 15, table 3-7): no overlong forms, no surrogates,
// nothing above U+10FFFF. A byte that does not start a well-formed sequence is reported as one
// invalid unit of length 1, so every byte of any input belongs to exactly one unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitnet::utf8 {

inline constexpr uint32_t kInvalid = 0xFFFFFFFFu;  // the code point reported for an invalid byte

struct Unit {
    uint32_t code_point;  // kInvalid for an invalid byte
    uint32_t length;      // 1..4 bytes
};

// Bytes in the sequence a lead byte announces (1 for ASCII and for bytes that cannot lead).
inline uint32_t sequence_length(uint8_t lead) {
    if (lead < 0xC2) return 1;
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    if (lead < 0xF5) return 4;
    return 1;
}

// Valid range of the second byte after `lead` (the first continuation byte is the one that
// excludes overlong forms, surrogates and values above U+10FFFF).
inline bool second_byte_ok(uint8_t lead, uint8_t second) {
    switch (lead) {
    case 0xE0: return second >= 0xA0 && second <= 0xBF;
    case 0xED: return second >= 0x80 && second <= 0x9F;
    case 0xF0: return second >= 0x90 && second <= 0xBF;
    case 0xF4: return second >= 0x80 && second <= 0x8F;
    default: return (second & 0xC0) == 0x80;
    }
}

// Decode the unit at `text`, of which `remaining` (> 0) bytes are available.
inline Unit decode(const uint8_t *text, size_t remaining) {
    uint8_t lead = text[0];
    if (lead < 0x80) return {lead, 1};
    uint32_t length = sequence_length(lead);
    if (length == 1 || remaining < length || !second_byte_ok(lead, text[1])) return {kInvalid, 1};
    for (uint32_t i = 2; i < length; ++i) {
        if ((text[i] & 0xC0) != 0x80) return {kInvalid, 1};
    }
    uint32_t code_point = lead & (0x7F >> length);
    for (uint32_t i = 1; i < length; ++i) code_point = (code_point << 6) | (text[i] & 0x3F);
    return {code_point, length};
}

// Append the UTF-8 form of a valid code point.
inline void append(std::string &out, uint32_t code_point) {
    if (code_point < 0x80) {
        out += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
        out += static_cast<char>(0xC0 | (code_point >> 6));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else if (code_point < 0x10000) {
        out += static_cast<char>(0xE0 | (code_point >> 12));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code_point >> 18));
        out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    }
}

// How many bytes at the end of `text` form the beginning of a well-formed sequence that is not
// complete yet (0..3): what a streaming decoder must hold back until more bytes arrive.
inline size_t incomplete_tail(std::string_view text) {
    size_t size = text.size();
    for (size_t back = 1; back <= 3 && back <= size; ++back) {
        auto lead = static_cast<uint8_t>(text[size - back]);
        if ((lead & 0xC0) == 0x80) continue;  // a continuation byte: the lead is further back
        uint32_t length = sequence_length(lead);
        if (length <= back) return 0;  // complete, or not a lead byte at all
        if (back >= 2 && !second_byte_ok(lead, static_cast<uint8_t>(text[size - back + 1]))) return 0;
        return back;
    }
    return 0;
}

}  // namespace bitnet::utf8
