// KV cache cell access for the Vulkan backend (state files, sequence position shifts): cells go
// through a host-visible staging buffer a few at a time. Key rotation (context shift) runs on the
// device (rope_shift.comp): the host sends only the moved cells and the cos/sin of their deltas,
// computed by the CPU backend's code (runtime/rope.h) so both round them alike; no key is read back.
// These are rare operations, outside decode.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/vulkan/vulkan_backend.h"
#include "backend/vulkan_traffic.h"
#include "runtime/rope.h"
#include "shaders/shader_interface.h"
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
        count_vulkan_host_read();
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
    const uint32_t half_rot = static_cast<uint32_t>(rope_inv_freq_.size());
    // A chunk's cells and cos/sin table go where a decode's cells and RoPE table go in the metadata
    // block (begin() rewrites both before every decode), so a chunk holds at most n_batch cells.
    const uint64_t entry_bytes = (1 + 2 * uint64_t(half_rot)) * 4;
    const int32_t per_chunk = static_cast<int32_t>(
        std::min<uint64_t>(static_cast<uint64_t>(config_.n_batch), staging_.size() / entry_bytes));
    const shader::RopeShiftParams base_params{0,
                                      static_cast<uint32_t>(hp.n_head_kv),
                                      static_cast<uint32_t>(hp.head_dim),
                                      half_rot,
                                      hp.rope_neox ? 1u : 0u,
                                      layout_.meta + layout_.token_cell,
                                      layout_.meta + layout_.rope,
                                      0,
                                      static_cast<uint32_t>(kv_.n_embd_kv()),
                                      kv_.type() == BITNET_KV_F16 ? 1u : 0u};
    for (int32_t first = 0; first < static_cast<int32_t>(moved.size()); first += per_chunk) {
        const int32_t count = std::min(per_chunk, static_cast<int32_t>(moved.size()) - first);
        uint32_t *cell_ids = reinterpret_cast<uint32_t *>(staging_.mapped());
        float *table = reinterpret_cast<float *>(cell_ids + count);
        for (int32_t i = 0; i < count; ++i) {
            cell_ids[i] = static_cast<uint32_t>(moved[first + i]);
            rope_rotation_table(hp, rope_inv_freq_.data(), moved_deltas[first + i], table + 2 * half_rot * i);
        }
        staging_.flush();

        cmd_ = commands_->begin();
        bound_pipeline_ = VK_NULL_HANDLE;
        dirty_reads_ = dirty_writes_ = 0;
        const VkBufferCopy copies[2] = {
            {0, (uint64_t(layout_.meta) + layout_.token_cell) * 4, uint64_t(count) * 4},
            {uint64_t(count) * 4, (uint64_t(layout_.meta) + layout_.rope) * 4, uint64_t(count) * 2 * half_rot * 4}};
        sync(0, kMeta);
        device_->fn().vkCmdCopyBuffer(cmd_, staging_.handle(), work_.handle(), half_rot ? 2 : 1, copies);
        shader::RopeShiftParams params = base_params;
        params.n_cells = static_cast<uint32_t>(count);
        for (int32_t layer = 0; layer < hp.n_layer; ++layer) {
            sync(kMeta, kCache);
            dispatch_flat(vk::Shader::RopeShift, params, sets_[2 + static_cast<size_t>(layer)],
                          uint64_t(count) * static_cast<uint64_t>(hp.n_head_kv), 64);
        }
        commands_->submit_and_wait("rotating cached keys");
    }
}

}  // namespace bitnet
