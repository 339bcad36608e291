// The AVX2 variant's functions that live outside avx2_kernels.cpp (which builds the table).
#pragma once

#include "kernels/kernels.h"

namespace bitnet::avx2 {

#include "kernels/float_kernels.inc"

}  // namespace bitnet::avx2
