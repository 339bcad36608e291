#include "backend/vulkan/vulkan_weights.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "model/model_lifetime.h"
#include "tensor/quantize.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::vk {
namespace {

constexpr uint64_t kAlignment = 256;
// Bytes after each piece that shaders may read past its end (a word straddling the last row's
// end, a partial last unit); they never use what they read there.
constexpr uint64_t kOverread = 64;
constexpr uint64_t kMaxPageBytes = uint64_t(512) << 20;
constexpr uint64_t kStagingBytes = uint64_t(64) << 20;

uint64_t align_up(uint64_t value, uint64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// Every weight the shaders read, each distinct tensor once (a tied lm_head is the embedding, which
// embed.comp also reads: a decode looks its tokens' rows up on the device).
std::vector<const Weight *> device_weights(const bitnet_model &model) {
    std::vector<const Weight *> weights;
    for (const LayerWeights &lw : model.weights.layers) {
        for (const Weight *w : {&lw.attn_norm, &lw.attn_sub_norm, &lw.ffn_norm, &lw.ffn_sub_norm, &lw.wq, &lw.wk,
                                &lw.wv, &lw.wo, &lw.ffn_gate, &lw.ffn_up, &lw.ffn_down}) {
            if (w->present()) weights.push_back(w);
        }
    }
    weights.push_back(&model.weights.output_norm);
    weights.push_back(&model.weights.output);
    weights.push_back(&model.weights.token_embd);
    return weights;
}

}  // namespace

TensorType device_type(TensorType stored) {
    const TensorTypeTraits &traits = tensor_type_traits(stored);
    return traits.float_kernel || traits.ternary ? stored : TensorType::F32;
}

// The weights of every model on every device, owned here, on the Vulkan side, not by the model.
//
// An entry is keyed by the model's load_id, never by its address: a model freed and another loaded
// at the same address (ABA) gets a new load_id, so it can never find the old model's weights.
// The registry holds a reference to each model's weights, so that contexts made one after another
// find them uploaded; each context holds one too. The registry's reference is dropped when the
// model is freed (forget_model, a model-freed listener), so the weights are freed with the model
// or with its last context, whichever goes last: no entry outlives its model, however many models
// are loaded and freed, and no context ever sees weights freed under it.
//
// Two locks: the registry's, held only to find or remove a model's entry, and each entry's, held
// during an upload, so that a second context of the same model waits for it and shares the result
// while other models upload at the same time.
struct ModelDeviceWeights {
    std::mutex mutex;
    std::vector<std::shared_ptr<DeviceWeights>> on_device;  // at most one per live Device
};

namespace {

struct WeightRegistry {
    std::mutex mutex;
    std::unordered_map<uint64_t, std::shared_ptr<ModelDeviceWeights>> models;  // by load_id
};

void forget_model(uint64_t load_id);

// Never destroyed: a model freed during exit (by another static's destructor) still finds it.
WeightRegistry &registry() {
    static WeightRegistry *const instance = [] {
        add_model_freed_listener(&forget_model);
        return new WeightRegistry();
    }();
    return *instance;
}

void forget_model(uint64_t load_id) {
    std::shared_ptr<ModelDeviceWeights> entry;
    {
        WeightRegistry &weights = registry();
        std::lock_guard<std::mutex> lock(weights.mutex);
        auto found = weights.models.find(load_id);
        if (found == weights.models.end()) return;
        entry = std::move(found->second);
        weights.models.erase(found);
    }
    // The device buffers are freed here (unless a context still holds them), outside the lock.
}

std::shared_ptr<ModelDeviceWeights> model_entry(const bitnet_model &model) {
    WeightRegistry &weights = registry();
    std::lock_guard<std::mutex> lock(weights.mutex);
    std::shared_ptr<ModelDeviceWeights> &entry = weights.models[model.load_id];
    if (!entry) entry = std::make_shared<ModelDeviceWeights>();
    return entry;
}

}  // namespace

std::shared_ptr<DeviceWeights> DeviceWeights::acquire(const std::shared_ptr<Device> &device, const bitnet_model &model) {
    std::shared_ptr<ModelDeviceWeights> entry = model_entry(model);
    // Held during an upload too: a second context of the same model waits for it and shares it.
    std::lock_guard<std::mutex> lock(entry->mutex);
    auto &on_device = entry->on_device;
    // A device that was lost or never finished a submission is replaced by Device::acquire; the
    // weights on it are dropped here (contexts still on it keep their own references).
    std::erase_if(on_device, [](const std::shared_ptr<DeviceWeights> &weights) {
        return weights->device_->lost() || weights->device_->hung();
    });
    for (const std::shared_ptr<DeviceWeights> &weights : on_device) {
        if (weights->device_ == device) {
            LOG_DEBUG("vulkan: the weights of '%s' are already on device %d", model.name.c_str(), device->index());
            return weights;
        }
    }
    std::shared_ptr<DeviceWeights> weights(new DeviceWeights());
    weights->device_ = device;
    weights->model_name_ = model.name;
    weights->upload(model);
    on_device.push_back(weights);
    return weights;
}

// Logged so that tests can check that weights are freed with their model (no leak across loads).
DeviceWeights::~DeviceWeights() {
    if (device_) {
        LOG_DEBUG("vulkan: freed the weights of '%s' on device %d (%.1f MiB)", model_name_.c_str(), device_->index(),
                  bytes_ / 1048576.0);
    }
}

void DeviceWeights::upload(const bitnet_model &model) {
    Device &device = *device_;
    const uint64_t page_limit = std::min<uint64_t>(
        {device.limits().max_buffer_range, device.limits().max_allocation, kMaxPageBytes, uint64_t(UINT32_MAX)}) /
        kAlignment * kAlignment;

    // Lay the tensors out in pages.
    struct Pending {
        const Weight *weight;
        TensorPiece piece;
    };
    std::vector<Pending> pending;
    std::vector<uint64_t> page_sizes{0};
    for (const Weight *weight : device_weights(model)) {
        if (tensors_.count(weight->data)) continue;
        DeviceTensor &tensor = tensors_[weight->data];
        tensor.type = device_type(weight->type);
        tensor.row_bytes = tensor.type == weight->type ? weight->row_bytes() : tensor_row_bytes(tensor.type, weight->stored_cols);
        uint64_t row = 0;
        while (row < weight->rows) {
            uint64_t offset = align_up(page_sizes.back(), kAlignment);
            uint64_t fit = offset + kOverread < page_limit ? (page_limit - offset - kOverread) / tensor.row_bytes : 0;
            if (fit == 0) {
                if (page_sizes.back() == 0) {
                    fail(BITNET_ERR_UNSUPPORTED, "vulkan: a row of '%s' (%llu bytes) does not fit in one buffer of device %d",
                         weight->info ? weight->info->name.c_str() : "?", static_cast<unsigned long long>(tensor.row_bytes),
                         device.index());
                }
                page_sizes.push_back(0);
                continue;
            }
            TensorPiece piece;
            piece.page = static_cast<uint32_t>(page_sizes.size() - 1);
            piece.byte_offset = static_cast<uint32_t>(offset);
            piece.first_row = row;
            piece.n_rows = std::min(fit, weight->rows - row);
            tensor.pieces.push_back(piece);
            pending.push_back({weight, piece});
            page_sizes.back() = offset + piece.n_rows * tensor.row_bytes + kOverread;
            bytes_ += piece.n_rows * tensor.row_bytes;
            row += piece.n_rows;
        }
    }

    std::vector<const Buffer *> page_pointers;
    for (uint64_t size : page_sizes) {
        pages_.emplace_back(device, align_up(size, kAlignment), MemoryUse::Device, "weights");
    }
    for (const Buffer &page : pages_) page_pointers.push_back(&page);
    sets_ = DescriptorSets(device, page_pointers);

    // Copy through a staging buffer, a few tens of MiB at a time.
    Buffer staging(device, std::min(kStagingBytes, align_up(bytes_, kAlignment)), MemoryUse::Upload, "weight staging");
    Commands commands(device);
    // Zeros first: shaders may read the padding after each piece, and must find finite values.
    VkCommandBuffer clear = commands.begin();
    for (const Buffer &page : pages_) device.fn().vkCmdFillBuffer(clear, page.handle(), 0, VK_WHOLE_SIZE, 0);
    commands.submit_and_wait("clearing weight buffers");
    std::vector<std::pair<uint32_t, VkBufferCopy>> regions;
    uint64_t staged = 0;
    auto flush = [&]() {
        if (regions.empty()) return;
        VkCommandBuffer cmd = commands.begin();
        for (const auto &[page, region] : regions) {
            device.fn().vkCmdCopyBuffer(cmd, staging.handle(), pages_[page].handle(), 1, &region);
        }
        commands.submit_and_wait("uploading weights");
        regions.clear();
        staged = 0;
    };
    for (const Pending &item : pending) {
        const DeviceTensor &tensor = tensors_[item.weight->data];
        if (tensor.type != item.weight->type) {
            // Decoded on the host, a row at a time, straight into the staging buffer.
            const Weight &w = *item.weight;
            for (uint64_t r = 0; r < item.piece.n_rows; ++r) {
                if (staging.size() - staged < tensor.row_bytes) flush();
                dequantize_rows(w.type, w.data, w.stored_cols, w.rows, item.piece.first_row + r, 1,
                                reinterpret_cast<float *>(staging.mapped() + staged));
                regions.push_back({item.piece.page, VkBufferCopy{staged, item.piece.byte_offset + r * tensor.row_bytes,
                                                                 tensor.row_bytes}});
                staged += tensor.row_bytes;
            }
            continue;
        }
        const uint64_t row_bytes = tensor.row_bytes;
        const uint8_t *source = item.weight->data + item.piece.first_row * row_bytes;
        const uint64_t size = item.piece.n_rows * row_bytes;
        uint64_t done = 0;
        while (done < size) {
            if (staged == staging.size()) flush();
            const uint64_t chunk = std::min(size - done, staging.size() - staged);
            std::memcpy(staging.mapped() + staged, source + done, chunk);
            regions.push_back({item.piece.page, VkBufferCopy{staged, item.piece.byte_offset + done, chunk}});
            staged += chunk;
            done += chunk;
        }
    }
    flush();
    LOG_INFO("vulkan: uploaded the weights of '%s' to device %d (%s): %.1f MiB in %zu buffers", model.name.c_str(),
             device.index(), device.name().c_str(), bytes_ / 1048576.0, pages_.size());
}

const DeviceTensor &DeviceWeights::find(const Weight &weight) const {
    auto found = tensors_.find(weight.data);
    if (found == tensors_.end()) {
        fail(BITNET_ERR_INTERNAL, "vulkan: weight '%s' was not uploaded", weight.info ? weight.info->name.c_str() : "?");
    }
    return found->second;
}

}  // namespace bitnet::vk
