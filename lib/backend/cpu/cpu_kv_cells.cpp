// KV cache cell access for the CPU backend: state files and sequence position shifts.
#include <cstring>

#include "backend/cpu/cpu_backend.h"
#include "runtime/rope.h"
#include "util/error.h"

namespace bitnet {

std::string CpuBackend::name() const { return format("cpu %s, %d threads", kernels_.name, config_.n_threads); }

size_t CpuBackend::kv_cell_bytes() const {
    return 2 * static_cast<size_t>(model_.hparams.n_layer) * kv_.n_embd_kv() * kv_.element_bytes();
}

void CpuBackend::read_kv_cells(const int32_t *cells, int32_t n_cells, uint8_t *out) {
    const size_t row_bytes = kv_.n_embd_kv() * kv_.element_bytes();
    for (int32_t i = 0; i < n_cells; ++i) {
        for (int32_t layer = 0; layer < model_.hparams.n_layer; ++layer) {
            std::memcpy(out, kv_.key_row(layer, cells[i]), row_bytes);
            std::memcpy(out + row_bytes, kv_.value_row(layer, cells[i]), row_bytes);
            out += 2 * row_bytes;
        }
    }
}

void CpuBackend::write_kv_cells(const int32_t *cells, int32_t n_cells, const uint8_t *in) {
    const size_t row_bytes = kv_.n_embd_kv() * kv_.element_bytes();
    for (int32_t i = 0; i < n_cells; ++i) {
        for (int32_t layer = 0; layer < model_.hparams.n_layer; ++layer) {
            std::memcpy(kv_.key_row(layer, cells[i]), in, row_bytes);
            std::memcpy(kv_.value_row(layer, cells[i]), in + row_bytes, row_bytes);
            in += 2 * row_bytes;
        }
    }
}

void CpuBackend::rotate_keys(const int32_t *cells, const int32_t *deltas, int32_t n_cells) {
    const HyperParams &hp = model_.hparams;
    const bool is_f16 = kv_.type() == BITNET_KV_F16;
    float *scratch = row_scratch_;  // n_embd_kv <= n_embd <= the scratch row
    float *cos_sin = rope_tables_ + static_cast<int64_t>(config_.n_batch) * hp.n_rot;  // the spare
    for (int32_t i = 0; i < n_cells; ++i) {
        if (deltas[i] == 0) continue;
        rope_rotation_table(hp, rope_inv_freq_, deltas[i], cos_sin);
        for (int32_t layer = 0; layer < hp.n_layer; ++layer) {
            uint8_t *stored = kv_.key_row(layer, cells[i]);
            if (is_f16) {
                rope_rotate_f16(hp, reinterpret_cast<uint16_t *>(stored), hp.n_head_kv, cos_sin, scratch);
            } else {
                rope_rotate(hp, reinterpret_cast<float *>(stored), hp.n_head_kv, cos_sin);
            }
        }
    }
}

}  // namespace bitnet
