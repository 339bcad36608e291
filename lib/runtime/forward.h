// The forward pass of the llama family as a recipe over the op set.
#pragma once

#include <functional>

#include "model/model.h"
#include "runtime/ops.h"

namespace bitnet {

// Runs the model over the planned batch. `should_abort` is polled between layers; when it says
// yes the pass stops and throws Error(BITNET_ERR_ABORTED).
void forward(const bitnet_model &model, const BatchPlan &plan, Ops &ops, const std::function<bool()> &should_abort);

}  // namespace bitnet
