// A compute backend: the op set of the forward pass plus what the context needs to manage the
// KV cache the backend holds (shifting positions, saving and restoring state).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/ops.h"

namespace bitnet {

// Where output() writes, in host memory: logits [n_outputs_max][n_vocab] and, when kept,
// hidden states [n_outputs_max][n_embd].
struct OutputBuffers {
    float *logits = nullptr;
    float *embeddings = nullptr;
};

class Backend : public Ops {
public:
    // "cpu avx512, 2 threads", "vulkan NVIDIA H100 (device 0)".
    virtual std::string name() const = 0;
    virtual void set_outputs(const OutputBuffers &outputs) = 0;

    // Bytes of one cell across all layers: for each layer its key row then its value row, in the
    // cache's element type (the layout state files store).
    virtual size_t kv_cell_bytes() const = 0;
    // Copy cells out of / into the cache, `kv_cell_bytes()` bytes each, in the order given.
    virtual void read_kv_cells(const int32_t *cells, int32_t n_cells, uint8_t *out) = 0;
    virtual void write_kv_cells(const int32_t *cells, int32_t n_cells, const uint8_t *in) = 0;
    // Rotate the cached keys of `cells` by deltas[i] positions (RoPE is a rotation, so a position
    // shift is one more rotation by the difference), as sequence shifts need.
    virtual void rotate_keys(const int32_t *cells, const int32_t *deltas, int32_t n_cells) = 0;
};

}  // namespace bitnet
