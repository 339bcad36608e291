// The scalar variant's functions that live outside scalar_kernels.cpp (which builds the table).
#pragma once

#include "kernels/kernels.h"

namespace bitnet::scalar {

#include "kernels/float_kernels.inc"

}  // namespace bitnet::scalar
