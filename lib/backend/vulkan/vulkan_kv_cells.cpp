// KV cache cell access for the Vulkan backend (state files, sequence position shifts): cells go
// through a host-visible staging buffer a few at a time; key rotation reads the keys back, rotates
// them on the host with the CPU backend's code (runtime/rope.h), and writes them again. These are
// rare operations, outside decode.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/vulkan/vulkan_backend.h"
#include "runtime/rope.h"
#include "util/error.h"

namespace bitnet {

size_t VulkanBackend::kv_cell_bytes() const {
    return 2 * static_cast<size_t>(model_.hparams.n_layer) * kv_.n_embd_kv() * kv_.element_bytes();
}

// The state layout (backend.h): per cell, per layer, its key row then its value row. In the staging
// buffer, cell i of a chunk is at i * kv_cell_bytes().
void VulkanBackend::read_kv_cells(const int32_t *cells, int32_t n_cells, uint8_t *out) {
    const size_t row_bytes = kv_.n_embd_kv() * kv_.element_bytes();
    const size_t cell_bytes = kv_cell_bytes();
    const int32_t n_layer = model_.hparams.n_layer;
    const int32_t per_chunk = static_cast<int32_t>(staging_.size() / cell_bytes);
    const uint64_t values = uint64_t(kv_.n_ctx()) * row_bytes;
    std::vector<VkBufferCopy> regions;
    for (int32_t first = 0; first < n_cells; first += per_chunk) {
        const int32_t count = std::min(per_chunk, n_cells - first);
        VkCommandBuffer cmd = commands_->begin();
        for (int32_t layer = 0; layer < n_layer; ++layer) {
            regions.clear();
            for (int32_t i = 0; i < count; ++i) {
                const uint64_t cell = static_cast<uint64_t>(cells[first + i]);
                const uint64_t at = i * cell_bytes + 2 * layer * row_bytes;
                regions.push_back({cell * row_bytes, at, row_bytes});
                regions.push_back({values + cell * row_bytes, at + row_bytes, row_bytes});
            }
            device_->fn().vkCmdCopyBuffer(cmd, cache_[layer].handle(), staging_.handle(),
                                          static_cast<uint32_t>(regions.size()), regions.data());
        }
        host_barrier(cmd);
        commands_->submit_and_wait("reading KV cells");
        staging_.invalidate();
        std::memcpy(out + first * cell_bytes, staging_.mapped(), count * cell_bytes);
    }
}

void VulkanBackend::write_kv_cells(const int32_t *cells, int32_t n_cells, const uint8_t *in) {
    const size_t row_bytes = kv_.n_embd_kv() * kv_.element_bytes();
    const size_t cell_bytes = kv_cell_bytes();
    const int32_t n_layer = model_.hparams.n_layer;
    const int32_t per_chunk = static_cast<int32_t>(staging_.size() / cell_bytes);
    const uint64_t values = uint64_t(kv_.n_ctx()) * row_bytes;
    std::vector<VkBufferCopy> regions;
    for (int32_t first = 0; first < n_cells; first += per_chunk) {
        const int32_t count = std::min(per_chunk, n_cells - first);
        std::memcpy(staging_.mapped(), in + first * cell_bytes, count * cell_bytes);
        staging_.flush();
        VkCommandBuffer cmd = commands_->begin();
        for (int32_t layer = 0; layer < n_layer; ++layer) {
            regions.clear();
            for (int32_t i = 0; i < count; ++i) {
                const uint64_t cell = static_cast<uint64_t>(cells[first + i]);
                const uint64_t at = i * cell_bytes + 2 * layer * row_bytes;
                regions.push_back({at, cell * row_bytes, row_bytes});
                regions.push_back({at + row_bytes, values + cell * row_bytes, row_bytes});
            }
            device_->fn().vkCmdCopyBuffer(cmd, staging_.handle(), cache_[layer].handle(),
                                          static_cast<uint32_t>(regions.size()), regions.data());
        }
        commands_->submit_and_wait("writing KV cells");
    }
}

void VulkanBackend::rotate_keys(const int32_t *cells, const int32_t *deltas, int32_t n_cells) {
    std::vector<int32_t> moved, moved_deltas;
    for (int32_t i = 0; i < n_cells; ++i) {
        if (deltas[i] == 0) continue;
        moved.push_back(cells[i]);
        moved_deltas.push_back(deltas[i]);
    }
    const HyperParams &hp = model_.hparams;
    const int32_t n = kv_.n_embd_kv();
    const size_t row_bytes = n * kv_.element_bytes();
    const int32_t n_layer = hp.n_layer;
    const bool is_f16 = kv_.type() == BITNET_KV_F16;
    const size_t keys_bytes = n_layer * row_bytes;  // one cell's keys of every layer
    const int32_t per_chunk = static_cast<int32_t>(staging_.size() / keys_bytes);
    std::vector<VkBufferCopy> regions;
    std::vector<float> scratch(static_cast<size_t>(n));
    std::vector<float> cos_sin(static_cast<size_t>(hp.n_rot));
    auto copy_keys = [&](int32_t first, int32_t count, bool to_device) {
        VkCommandBuffer cmd = commands_->begin();
        for (int32_t layer = 0; layer < n_layer; ++layer) {
            regions.clear();
            for (int32_t i = 0; i < count; ++i) {
                const uint64_t cache_at = static_cast<uint64_t>(moved[first + i]) * row_bytes;
                const uint64_t staging_at = (static_cast<uint64_t>(i) * n_layer + layer) * row_bytes;
                regions.push_back(to_device ? VkBufferCopy{staging_at, cache_at, row_bytes}
                                            : VkBufferCopy{cache_at, staging_at, row_bytes});
            }
            device_->fn().vkCmdCopyBuffer(cmd, to_device ? staging_.handle() : cache_[layer].handle(),
                                          to_device ? cache_[layer].handle() : staging_.handle(),
                                          static_cast<uint32_t>(regions.size()), regions.data());
        }
        if (!to_device) host_barrier(cmd);
        commands_->submit_and_wait(to_device ? "writing rotated keys" : "reading keys to rotate");
    };
    for (int32_t first = 0; first < static_cast<int32_t>(moved.size()); first += per_chunk) {
        const int32_t count = std::min(per_chunk, static_cast<int32_t>(moved.size()) - first);
        copy_keys(first, count, /*to_device=*/false);
        staging_.invalidate();
        for (int32_t i = 0; i < count; ++i) {
            rope_rotation_table(hp, rope_inv_freq_.data(), moved_deltas[first + i], cos_sin.data());
            for (int32_t layer = 0; layer < n_layer; ++layer) {
                uint8_t *stored = staging_.mapped() + (static_cast<size_t>(i) * n_layer + layer) * row_bytes;
                if (is_f16) {
                    rope_rotate_f16(hp, reinterpret_cast<uint16_t *>(stored), hp.n_head_kv, cos_sin.data(), scratch.data());
                } else {
                    rope_rotate(hp, reinterpret_cast<float *>(stored), hp.n_head_kv, cos_sin.data());
                }
            }
        }
        staging_.flush();
        copy_keys(first, count, /*to_device=*/true);
    }
}

}  // namespace bitnet
