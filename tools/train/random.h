// splitmix64 (Steele, Lea, Flood 2014): a tiny generator whose whole state is one integer, so a
// checkpoint stores it exactly and a resumed run draws the same numbers.
#pragma once

#include <cmath>
#include <cstdint>

namespace bitnet::train {

struct Random {
    uint64_t state = 0;

    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    uint64_t below(uint64_t n) { return next() % n; }
    double normal() {  // Box-Muller
        const double u1 = 1.0 - uniform(), u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    }
};

}  // namespace bitnet::train
