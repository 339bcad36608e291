// A loss-curve plot as a small self-contained SVG (training loss and validation loss per step).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bitnet::train {

using CurvePoints = std::vector<std::pair<int64_t, double>>;  // (step, loss)

// Written atomically. Throws Error(BITNET_ERR_IO) on failure.
void write_loss_curve_svg(const std::string &path, const CurvePoints &train, const CurvePoints &validation);

}  // namespace bitnet::train
