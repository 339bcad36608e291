// Resumable training checkpoints: the whole TrainState, zstd-compressed, behind a header that
// carries a magic, a version and the XXH3-64 checksum and size of the compressed payload, written
// to a temporary name and renamed into place so that a crash never leaves half a file.
#pragma once

#include <string>

#include "train/trainer.h"

namespace bitnet::train {

void write_checkpoint(const TrainState &state, const std::string &path);

// Throws Error naming what is wrong (not a checkpoint, another version, truncated, checksum
// mismatch, inconsistent sizes) and never returns a partial state.
TrainState read_checkpoint(const std::string &path);

}  // namespace bitnet::train
