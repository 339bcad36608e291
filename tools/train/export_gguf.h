// Export of a trained model as the official bitnet-b1.58 GGUF layout (formats.md §2.9): arch
// `bitnet-b1.58`, F16 tied embedding, F32 norms, I2_S projections holding the absmean-ternarized
// latent weights (their per-tensor scale = max|W_q| = the absmean scale, §2.2), and the
// SentencePiece vocabulary as a `llama` tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/model_shape.h"
#include "train/tokenizer_trainer.h"

namespace bitnet::train {

std::vector<uint8_t> export_gguf(const ModelShape &shape, const std::vector<float> &parameters, const Tokenizer &tokenizer,
                                 const std::string &name);
// The same, written atomically to `path`.
void write_gguf(const std::string &path, const ModelShape &shape, const std::vector<float> &parameters,
                const Tokenizer &tokenizer, const std::string &name);

}  // namespace bitnet::train
