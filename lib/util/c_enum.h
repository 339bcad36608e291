// Enum values that arrive from C: read them as integers before they become C++ enum values.
//
// A C caller may pass any int where the header says an enum (C enums are plain ints). In C++ an
// enum without a fixed underlying type only has the values of its smallest bit-field, so loading
// an out-of-range value through the enum type is undefined behaviour (UBSan -fsanitize=enum). The
// value is read here through its object representation, which is not a load of the enum type;
// callers compare the integer with the enum's range and only then use the enum.
#pragma once

#include <cstring>
#include <type_traits>

namespace bitnet {

template <class Enum>
int c_enum_bits(const Enum &value) {
    static_assert(std::is_enum_v<Enum> && sizeof(Enum) == sizeof(int), "a C enum with the size of int");
    int bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

// True when `value` holds one of the enumerators first..last (a contiguous C enum).
template <class Enum>
bool c_enum_in_range(const Enum &value, Enum first, Enum last) {
    const int bits = c_enum_bits(value);
    return bits >= static_cast<int>(first) && bits <= static_cast<int>(last);
}

}  // namespace bitnet
