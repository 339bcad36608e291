// The AVX-512 variant's functions that live outside avx512_kernels.cpp (which builds the table).
#pragma once

#include "kernels/kernels.h"

namespace bitnet::avx512 {

#include "kernels/float_kernels.inc"

}  // namespace bitnet::avx512
