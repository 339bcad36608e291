// Binding the model's weights by name with shape and type checks.
#pragma once

#include "model/model.h"

namespace bitnet {

// Fill model.weights from model.file using model.hparams. Throws Error naming the tensor.
void bind_weights(bitnet_model &model, const LoadOptions &options);

}  // namespace bitnet
