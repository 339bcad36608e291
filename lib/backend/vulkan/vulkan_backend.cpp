#include "backend/vulkan/vulkan_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/vulkan/vulkan_api.h"
#include "backend/vulkan_traffic.h"
#include "runtime/activation_layout.h"
#include "runtime/rope.h"
#include "shaders/shader_interface.h"
#include "tensor/quantize.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {
namespace {

using vk::Shader;

uint64_t round_up(uint64_t value, uint64_t multiple) { return (value + multiple - 1) / multiple * multiple; }
uint32_t ceil_div(uint64_t value, uint64_t divisor) { return static_cast<uint32_t>((value + divisor - 1) / divisor); }

constexpr uint32_t kMatmulInvocations = shader::MATMUL_INVOCATIONS;
constexpr uint32_t kMatmulTokens = shader::MATMUL_TOKENS;
constexpr int32_t kMaxHeadDim = static_cast<int32_t>(shader::ATTENTION_MAX_HEAD_DIM);
constexpr uint64_t kRowPadding = 128;   // activation rows: whole I2_S blocks, whole float units

// Push constants: the structs the shaders declare, from the header both compile.
using shader::AddParams;
using shader::AttentionParams;
using shader::EmbedParams;
using shader::GatedParams;
using shader::KvStoreParams;
using shader::MatmulA8Params;
using shader::MatmulFloatParams;
using shader::QuantizeParams;
using shader::RmsNormParams;
using shader::RopeParams;


}  // namespace

VulkanBackend::VulkanBackend(const bitnet_model &model, const VulkanBackendConfig &config, KvCache &kv, Arena &arena)
    : model_(model), config_(config), kv_(kv) {
    const HyperParams &hp = model.hparams;
    // The only host memory a decode needs; a measuring arena gives null, and then the backend only
    // measures: nothing is created on the device.
    copy_regions_ = arena.allocate<VkBufferCopy>(static_cast<size_t>(config.n_outputs_max) + 8);
    name_ = "vulkan (measuring)";
    if (!copy_regions_) return;

    if (hp.head_dim > kMaxHeadDim || hp.head_dim % 2 != 0) {
        fail(BITNET_ERR_UNSUPPORTED, "vulkan: head_dim %d is not supported (even, at most %d)", hp.head_dim, kMaxHeadDim);
    }
    rope_inv_freq_.resize(static_cast<size_t>(hp.n_rot / 2));
    rope_inverse_frequencies(hp, rope_inv_freq_.data());
    compute_layout();
    create_device_objects();
}

VulkanBackend::~VulkanBackend() = default;

void VulkanBackend::compute_layout() {
    const HyperParams &hp = model_.hparams;
    const uint64_t n_batch = static_cast<uint64_t>(config_.n_batch);
    uint64_t words = 0;
    auto place = [&](uint64_t count) {
        const uint64_t at = round_up(words, 16);  // 64-byte aligned regions
        words = at + count;
        return at;
    };
    std::array<uint64_t, static_cast<size_t>(Act::Count)> act{};
    for (size_t i = 0; i < act.size(); ++i) {
        const uint64_t width = static_cast<uint64_t>(activation_width(hp, static_cast<Act>(i)));
        layout_.width[i] = static_cast<uint32_t>(width);
        layout_.stride[i] = static_cast<uint32_t>(round_up(width, kRowPadding));
        act[i] = place(n_batch * layout_.stride[i]);
    }
    // Codes are padded to whole TQ blocks, wide enough for any projection's stored row.
    const uint64_t codes_stride = static_cast<uint64_t>(widest_projection_input(hp)) / 4;
    const uint64_t codes = place(n_batch * codes_stride);
    const uint64_t scales = place(n_batch);

    Layout &l = layout_;
    const uint32_t half_rot = static_cast<uint32_t>(hp.n_rot / 2);
    const uint64_t n_ctx = kv_.n_ctx();
    uint64_t meta_words = 0;
    auto meta_place = [&](uint64_t count) {
        const uint64_t at = meta_words;
        meta_words += count;
        return static_cast<uint32_t>(at);
    };
    l.tokens = meta_place(n_batch);
    l.token_pos = meta_place(n_batch);
    l.token_mask = meta_place(2 * n_batch);
    l.token_cell = meta_place(n_batch);
    l.outputs = meta_place(static_cast<uint64_t>(config_.n_outputs_max));
    l.rope = meta_place(n_batch * half_rot * 2);
    l.cell_pos = meta_place(n_ctx);
    l.cell_mask = meta_place(2 * n_ctx);
    const uint64_t meta = place(meta_words);
    l.words = words;
    if (words * 4 > UINT32_MAX) {
        fail(BITNET_ERR_OUT_OF_MEMORY, "vulkan: n_batch %d needs %.1f MiB of activations; reduce n_batch", config_.n_batch,
             words * 4 / 1048576.0);
    }
    for (size_t i = 0; i < act.size(); ++i) l.act[i] = static_cast<uint32_t>(act[i]);
    l.codes = static_cast<uint32_t>(codes);
    l.codes_stride = static_cast<uint32_t>(codes_stride);
    l.act_scales = static_cast<uint32_t>(scales);
    l.meta = static_cast<uint32_t>(meta);
    l.meta_words = static_cast<uint32_t>(meta_words);
    l.upload_bytes = round_up(meta_words * 4, 64);
    l.readback_embeddings = round_up(static_cast<uint64_t>(config_.n_outputs_max) * hp.n_vocab * 4, 64);
}

void VulkanBackend::create_device_objects() {
    const HyperParams &hp = model_.hparams;
    device_ = vk::Device::acquire(config_.device_index);
    vk::Device &device = *device_;
    if (static_cast<uint32_t>(config_.n_batch) > device.limits().max_groups[1] ||
        static_cast<uint32_t>(hp.n_head) > device.limits().max_groups[0]) {
        fail(BITNET_ERR_UNSUPPORTED, "vulkan: n_batch %d or n_head %d exceeds device %d's workgroup count limits",
             config_.n_batch, hp.n_head, device.index());
    }
    weights_ = vk::DeviceWeights::acquire(device_, model_);

    const uint64_t n_embd = static_cast<uint64_t>(hp.n_embd);
    const uint64_t n_outputs = static_cast<uint64_t>(config_.n_outputs_max);
    const std::string batch_what = format("activations (n_batch %d)", config_.n_batch);
    work_ = vk::Buffer(device, layout_.words * 4, vk::MemoryUse::Device, batch_what.c_str());
    upload_ = vk::Buffer(device, layout_.upload_bytes, vk::MemoryUse::Upload, "upload");
    std::memset(upload_.mapped(), 0, upload_.size());
    const uint64_t readback_bytes =
        layout_.readback_embeddings + (config_.keep_embeddings ? n_outputs * n_embd * 4 : 0);
    const std::string readback_what = format("logits (n_outputs_max %d x n_vocab %d)", config_.n_outputs_max, hp.n_vocab);
    readback_ = vk::Buffer(device, readback_bytes, vk::MemoryUse::Readback, readback_what.c_str());
    const uint64_t layer_cache_bytes = 2ull * kv_.n_ctx() * kv_.n_embd_kv() * kv_.element_bytes();
    const std::string cache_what = format("KV cache of one layer (n_ctx %u)", kv_.n_ctx());
    for (int32_t layer = 0; layer < hp.n_layer; ++layer) {
        cache_.emplace_back(device, layer_cache_bytes, vk::MemoryUse::Device, cache_what.c_str());
    }
    // State transfers and key rotation go through this, a few cells at a time.
    const uint64_t cell_bytes = kv_cell_bytes();
    staging_ = vk::Buffer(device, std::max<uint64_t>(cell_bytes, std::min<uint64_t>(uint64_t(4) << 20, cell_bytes * kv_.n_ctx())),
                          vk::MemoryUse::Readback, "KV staging");

    std::vector<const vk::Buffer *> buffers{&work_, &readback_};
    for (const vk::Buffer &layer : cache_) buffers.push_back(&layer);
    sets_ = vk::DescriptorSets(device, buffers);
    commands_ = std::make_unique<vk::Commands>(device);
    // Zero the work buffer once: activation rows' padding must read as zeros.
    device.fn().vkCmdFillBuffer(commands_->begin(), work_.handle(), 0, VK_WHOLE_SIZE, 0);
    commands_->submit_and_wait("clearing the work buffer");
    // Compile (or find) every pipeline this context can use now, not during a decode.
    vk::Pipelines &pipelines = device.pipelines();
    for (size_t i = 0; i < pipelines_.size(); ++i) {
        const Shader shader = static_cast<Shader>(i);
        if (shader != Shader::MatmulFloat && shader != Shader::LmHead && shader != Shader::Embed) {
            pipelines_[i] = pipelines.get(shader);
        }
    }
    // The ternary matmuls' mat-vec pipelines (one token per workgroup), for decode steps.
    for (size_t layout = 0; layout < kTernaryLayoutCount; ++layout) {
        matvec_pipelines_[layout] = pipelines.get(vk::kTernaryShaders[layout], 0, 1);
    }
    for (const LayerWeights &lw : model_.weights.layers) {
        for (const Weight *w : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.ffn_gate, &lw.ffn_up, &lw.ffn_down}) {
            if (tensor_type_traits(w->type).ternary && config_.quantize_activations) continue;
            const TensorType type = vk::device_type(w->type);
            VkPipeline &pipeline = float_pipelines_[static_cast<size_t>(type)];
            if (pipeline == VK_NULL_HANDLE) pipeline = pipelines.get(Shader::MatmulFloat, static_cast<uint32_t>(type));
        }
    }
    const TensorType head_type = vk::device_type(model_.weights.output.type);
    lm_head_pipelines_[static_cast<size_t>(head_type)] = pipelines.get(Shader::LmHead, static_cast<uint32_t>(head_type));
    embed_pipeline_ = pipelines.get(Shader::Embed, static_cast<uint32_t>(vk::device_type(model_.weights.token_embd.type)));
    pipeline_layout_ = pipelines.layout();

    name_ = format("vulkan %s (device %d, %s)", device.name().c_str(), device.index(), vk::device_type_name(device.type()));
    const uint64_t context_bytes = work_.size() + upload_.size() + readback_.size() + staging_.size() +
                                   layer_cache_bytes * static_cast<uint64_t>(hp.n_layer);
    LOG_INFO("vulkan: context on device %d (%s): %.1f MiB of device memory (KV cache %.1f MiB), weights %.1f MiB shared",
             device.index(), device.name().c_str(), context_bytes / 1048576.0,
             layer_cache_bytes * static_cast<double>(hp.n_layer) / 1048576.0, weights_->bytes() / 1048576.0);
}

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

// A barrier is needed before a dispatch that reads what an earlier one wrote, or writes what an
// earlier one read or wrote, since the last barrier. Independent dispatches (q, k and v projections;
// rope of Q and K) run without one between them.
void VulkanBackend::sync(uint32_t reads, uint32_t writes) {
    if (((reads | writes) & dirty_writes_) || (writes & dirty_reads_)) {
        VkMemoryBarrier barrier{};
        barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
        barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                                VK_ACCESS_TRANSFER_WRITE_BIT;
        const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
        device_->fn().vkCmdPipelineBarrier(cmd_, stages, stages, 0, 1, &barrier, 0, nullptr, 0, nullptr);
        dirty_reads_ = dirty_writes_ = 0;
    }
    dirty_reads_ |= reads;
    dirty_writes_ |= writes;
}

void VulkanBackend::host_barrier(VkCommandBuffer cmd) const {
    VkMemoryBarrier barrier{};
    barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    device_->fn().vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, nullptr, 0, nullptr);
}

template <class Params>
void VulkanBackend::dispatch(VkPipeline pipeline, const Params &params, VkDescriptorSet set1, VkDescriptorSet set2,
                             uint32_t groups_x, uint32_t groups_y) {
    static_assert(sizeof(Params) <= vk::Pipelines::kPushConstantBytes && sizeof(Params) % 4 == 0);
    if (groups_x == 0 || groups_y == 0) return;
    const vk::DeviceFunctions &fn = device_->fn();
    if (pipeline != bound_pipeline_) {
        fn.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
        bound_pipeline_ = pipeline;
    }
    const VkDescriptorSet sets[3] = {sets_[0], set1, set2};
    const uint32_t n_sets = set2 != VK_NULL_HANDLE ? 3 : set1 != VK_NULL_HANDLE ? 2 : 1;
    fn.vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_layout_, 0, n_sets, sets, 0, nullptr);
    fn.vkCmdPushConstants(cmd_, pipeline_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Params), &params);
    fn.vkCmdDispatch(cmd_, groups_x, groups_y, 1);
}

template <class Params>
void VulkanBackend::dispatch_flat(Shader shader, const Params &params, VkDescriptorSet set1, uint64_t invocations,
                                  uint32_t group_size) {
    const uint64_t groups = (invocations + group_size - 1) / group_size;
    const uint64_t groups_x = std::min<uint64_t>(groups, device_->limits().max_groups[0]);
    if (groups_x == 0) return;
    dispatch(shader, params, set1, VK_NULL_HANDLE, static_cast<uint32_t>(groups_x), ceil_div(groups, groups_x));
}

void VulkanBackend::begin(const BatchPlan &plan) {
    plan_ = &plan;
    quantized_source_ = -1;
    cmd_ = commands_->begin();
    bound_pipeline_ = VK_NULL_HANDLE;
    dirty_reads_ = dirty_writes_ = 0;

    // The batch's metadata and RoPE table, written on the host and copied in with the embeddings.
    const Layout &l = layout_;
    const int32_t n = plan.n_tokens;
    uint32_t *meta = reinterpret_cast<uint32_t *>(upload_.mapped());
    float *rope_table = reinterpret_cast<float *>(meta + l.rope);
    const size_t half_rot = rope_inv_freq_.size();
    for (int32_t t = 0; t < n; ++t) {
        meta[l.tokens + t] = static_cast<uint32_t>(plan.tokens[t]);
        meta[l.token_pos + t] = static_cast<uint32_t>(plan.positions[t]);
        meta[l.token_mask + 2 * t] = static_cast<uint32_t>(plan.token_seq_mask[t]);
        meta[l.token_mask + 2 * t + 1] = static_cast<uint32_t>(plan.token_seq_mask[t] >> 32);
        meta[l.token_cell + t] = static_cast<uint32_t>(plan.cells[t]);
        // cos and sin from the same host code as the CPU backend's, so both round them alike.
        rope_rotation_table(model_.hparams, rope_inv_freq_.data(), plan.positions[t], rope_table + 2 * t * half_rot);
    }
    for (int32_t o = 0; o < plan.n_outputs; ++o) meta[l.outputs + o] = static_cast<uint32_t>(plan.output_entries[o]);
    for (int32_t c = 0; c < plan.n_cells_used; ++c) {
        meta[l.cell_pos + c] = static_cast<uint32_t>(plan.view.pos[c]);
        meta[l.cell_mask + 2 * c] = static_cast<uint32_t>(plan.view.seq_mask[c]);
        meta[l.cell_mask + 2 * c + 1] = static_cast<uint32_t>(plan.view.seq_mask[c] >> 32);
    }
    uint32_t n_regions = 0;
    auto add_region = [&](uint32_t offset, uint64_t words) {
        if (words == 0) return;
        copy_regions_[n_regions++] = VkBufferCopy{uint64_t(offset) * 4, (uint64_t(l.meta) + offset) * 4, words * 4};
    };
    add_region(l.tokens, static_cast<uint64_t>(n));
    add_region(l.token_pos, static_cast<uint64_t>(n));
    add_region(l.token_mask, 2 * static_cast<uint64_t>(n));
    add_region(l.token_cell, static_cast<uint64_t>(n));
    add_region(l.outputs, static_cast<uint64_t>(plan.n_outputs));
    add_region(l.rope, static_cast<uint64_t>(n) * half_rot * 2);
    add_region(l.cell_pos, static_cast<uint64_t>(plan.n_cells_used));
    add_region(l.cell_mask, 2 * static_cast<uint64_t>(plan.n_cells_used));
    sync(0, kMeta);
    device_->fn().vkCmdCopyBuffer(cmd_, upload_.handle(), work_.handle(), n_regions, copy_regions_);
}

void VulkanBackend::embed(const Weight &token_embd) {
    // Looked up on the device (embed.comp) from the uploaded table and the token ids in the
    // metadata block: the host writes no activation rows.
    const vk::DeviceTensor &table = weights_->find(token_embd);
    const ScaledDecode scaling = scaled_decode(token_embd);
    const uint32_t units = static_cast<uint32_t>(tensor_shader_units(table.type, token_embd.stored_cols));
    sync(kMeta, region(Act::Residual));
    for (const vk::TensorPiece &piece : table.pieces) {
        const EmbedParams params{piece.byte_offset,
                                 static_cast<uint32_t>(table.row_bytes),
                                 static_cast<uint32_t>(piece.first_row),
                                 static_cast<uint32_t>(piece.n_rows),
                                 units,
                                 static_cast<uint32_t>(token_embd.cols),
                                 layout_.meta + layout_.tokens,
                                 act_word(Act::Residual),
                                 act_stride(Act::Residual),
                                 static_cast<uint32_t>(plan_->n_tokens),
                                 scaling.element_scale,
                                 scaling.output_scale};
        dispatch(embed_pipeline_, params, weights_->page_set(piece.page), VK_NULL_HANDLE,
                 static_cast<uint32_t>(plan_->n_tokens), 1);
    }
    ++versions_[static_cast<size_t>(Act::Residual)];
}

void VulkanBackend::rms_norm(Act in, const Weight &weight, Act out) {
    const vk::DeviceTensor &gamma = weights_->find(weight);
    const vk::TensorPiece &piece = gamma.pieces.front();
    sync(region(in), region(out));
    const RmsNormParams params{act_word(in),  act_stride(in), act_word(out), act_stride(out), static_cast<uint32_t>(weight.cols),
                               piece.byte_offset / 4, model_.hparams.norm_eps};
    dispatch(Shader::RmsNorm, params, weights_->page_set(piece.page), VK_NULL_HANDLE, static_cast<uint32_t>(plan_->n_tokens), 1);
    ++versions_[static_cast<size_t>(out)];
}

void VulkanBackend::project(const Weight &weight, Act in, Act out) {
    if (tensor_type_traits(weight.type).ternary && config_.quantize_activations) {
        project_ternary_a8(weight, in, out);
    } else {
        sync(region(in), region(out));
        project_float(weight, in, out, /*lm_head=*/false);
    }
    ++versions_[static_cast<size_t>(out)];
}

void VulkanBackend::quantize_input(Act in) {
    const int source = static_cast<int>(in);
    if (quantized_source_ == source && quantized_version_ == versions_[static_cast<size_t>(source)]) return;
    sync(region(in), kCodes);
    const QuantizeParams params{act_word(in),         act_stride(in),       act_width(in),       layout_.codes_stride,
                                layout_.codes,        layout_.codes_stride, layout_.act_scales};
    dispatch(Shader::Quantize, params, VK_NULL_HANDLE, VK_NULL_HANDLE, static_cast<uint32_t>(plan_->n_tokens), 1);
    quantized_source_ = source;
    quantized_version_ = versions_[static_cast<size_t>(source)];
}

void VulkanBackend::project_ternary_a8(const Weight &weight, Act in, Act out) {
    quantize_input(in);
    const vk::DeviceTensor &tensor = weights_->find(weight);
    const TernaryLayout layout = tensor_type_traits(weight.type).ternary_layout;
    // A batch of one token (a decode step) runs the mat-vec pipeline, larger ones the mat-mat one.
    const bool matvec = plan_->n_tokens == 1;
    const VkPipeline pipeline = matvec ? matvec_pipelines_[static_cast<size_t>(layout)]
                                       : pipelines_[static_cast<size_t>(vk::ternary_shader(layout))];
    const uint32_t tokens_per_group = matvec ? 1 : kMatmulTokens;
    // Per-block scales are inside the blocks; everything else was folded into weight.scale at load.
    const float weight_scale = weight.scale;
    const uint32_t units = static_cast<uint32_t>(tensor_shader_units(weight.type, weight.stored_cols));
    const uint32_t rows_per_group = kMatmulInvocations / device_->pipelines().matmul_lanes();
    const uint64_t max_rows = uint64_t(device_->limits().max_groups[0]) * rows_per_group;
    sync(kCodes, region(out));
    for (const vk::TensorPiece &piece : tensor.pieces) {
        for (uint64_t first = 0; first < piece.n_rows; first += max_rows) {
            const uint64_t rows = std::min(max_rows, piece.n_rows - first);
            const MatmulA8Params params{static_cast<uint32_t>(piece.byte_offset + first * tensor.row_bytes),
                                        static_cast<uint32_t>(tensor.row_bytes),
                                        static_cast<uint32_t>(rows),
                                        units,
                                        layout_.codes,
                                        layout_.codes_stride,
                                        layout_.act_scales,
                                        static_cast<uint32_t>(act_word(out) + piece.first_row + first),
                                        act_stride(out),
                                        static_cast<uint32_t>(plan_->n_tokens),
                                        weight_scale};
            dispatch(pipeline, params, weights_->page_set(piece.page), VK_NULL_HANDLE, ceil_div(rows, rows_per_group),
                     ceil_div(static_cast<uint64_t>(plan_->n_tokens), tokens_per_group));
        }
    }
}

void VulkanBackend::project_float(const Weight &weight, Act in, Act out, bool lm_head) {
    // The uploaded form decides the shader: fallback types are on the device as F32 (vulkan_weights.h).
    const vk::DeviceTensor &tensor = weights_->find(weight);
    const uint32_t units = static_cast<uint32_t>(tensor_shader_units(tensor.type, weight.stored_cols));
    const ScaledDecode scaling = scaled_decode(weight);
    const VkPipeline pipeline = (lm_head ? lm_head_pipelines_ : float_pipelines_)[static_cast<size_t>(tensor.type)];
    if (pipeline == VK_NULL_HANDLE) fail(BITNET_ERR_INTERNAL, "vulkan: no float pipeline for %s", tensor_type_name(tensor.type));
    const uint32_t rows_per_group = kMatmulInvocations / device_->pipelines().matmul_lanes();
    const uint64_t max_rows = uint64_t(device_->limits().max_groups[0]) * rows_per_group;
    const uint32_t n_tokens = static_cast<uint32_t>(lm_head ? plan_->n_outputs : plan_->n_tokens);
    const uint64_t n_vocab = static_cast<uint64_t>(model_.hparams.n_vocab);
    for (const vk::TensorPiece &piece : tensor.pieces) {
        for (uint64_t first = 0; first < piece.n_rows; first += max_rows) {
            const uint64_t rows = std::min(max_rows, piece.n_rows - first);
            const uint64_t out_word = (lm_head ? 0 : act_word(out)) + piece.first_row + first;
            const MatmulFloatParams params{static_cast<uint32_t>(piece.byte_offset + first * tensor.row_bytes),
                                           static_cast<uint32_t>(tensor.row_bytes),
                                           static_cast<uint32_t>(rows),
                                           units,
                                           act_word(in),
                                           act_stride(in),
                                           static_cast<uint32_t>(out_word),
                                           lm_head ? static_cast<uint32_t>(n_vocab) : act_stride(out),
                                           n_tokens,
                                           scaling.element_scale,
                                           scaling.output_scale,
                                           layout_.meta + layout_.outputs};
            dispatch(pipeline, params, weights_->page_set(piece.page),
                     lm_head ? sets_[1] : VK_NULL_HANDLE, ceil_div(rows, rows_per_group), ceil_div(n_tokens, kMatmulTokens));
        }
    }
}

void VulkanBackend::rope(Act buffer, int32_t n_heads) {
    const HyperParams &hp = model_.hparams;
    sync(region(buffer) | kMeta, region(buffer));
    const uint32_t half_rot = static_cast<uint32_t>(hp.n_rot / 2);
    const RopeParams params{act_word(buffer),
                            act_stride(buffer),
                            static_cast<uint32_t>(n_heads),
                            static_cast<uint32_t>(hp.head_dim),
                            half_rot,
                            hp.rope_neox ? 1u : 0u,
                            layout_.meta + layout_.rope,
                            static_cast<uint32_t>(plan_->n_tokens)};
    dispatch_flat(Shader::Rope, params, VK_NULL_HANDLE, uint64_t(plan_->n_tokens) * n_heads * half_rot, 64);
    ++versions_[static_cast<size_t>(buffer)];
}

void VulkanBackend::attention(int32_t layer) {
    const HyperParams &hp = model_.hparams;
    const BatchPlan &plan = *plan_;
    const uint32_t n_embd_kv = static_cast<uint32_t>(kv_.n_embd_kv());
    const uint32_t values_base = static_cast<uint32_t>(uint64_t(kv_.n_ctx()) * n_embd_kv);
    const uint32_t is_f16 = kv_.type() == BITNET_KV_F16 ? 1u : 0u;
    const VkDescriptorSet cache_set = sets_[2 + static_cast<size_t>(layer)];

    sync(region(Act::K) | region(Act::V) | kMeta, kCache);
    const KvStoreParams store{static_cast<uint32_t>(plan.n_tokens), n_embd_kv, act_word(Act::K), act_word(Act::V),
                              act_stride(Act::K), layout_.meta + layout_.token_cell, 0, values_base, is_f16};
    dispatch_flat(Shader::KvStore, store, cache_set, uint64_t(plan.n_tokens) * n_embd_kv / 2, 64);

    sync(region(Act::Q) | kCache | kMeta, region(Act::Attention));
    const AttentionParams params{static_cast<uint32_t>(plan.n_cells_used),
                                 static_cast<uint32_t>(hp.head_dim),
                                 static_cast<uint32_t>(hp.n_head / hp.n_head_kv),
                                 n_embd_kv,
                                 act_word(Act::Q),
                                 act_stride(Act::Q),
                                 act_word(Act::Attention),
                                 act_stride(Act::Attention),
                                 0,
                                 values_base,
                                 is_f16,
                                 layout_.meta + layout_.token_pos,
                                 layout_.meta + layout_.token_mask,
                                 layout_.meta + layout_.cell_pos,
                                 layout_.meta + layout_.cell_mask,
                                 static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp.head_dim)))};
    dispatch(Shader::Attention, params, cache_set, VK_NULL_HANDLE, static_cast<uint32_t>(hp.n_head),
             static_cast<uint32_t>(plan.n_tokens));
    ++versions_[static_cast<size_t>(Act::Attention)];
}

void VulkanBackend::gated_activation(FfnActivation activation) {
    sync(region(Act::Gate) | region(Act::Up), region(Act::Gate));
    const uint64_t n = uint64_t(plan_->n_tokens) * act_stride(Act::Gate);  // padding: act(0) * 0 = 0
    const GatedParams params{act_word(Act::Gate), act_word(Act::Up), static_cast<uint32_t>(n),
                             activation == FfnActivation::ReluSquared ? 1u : 0u};
    dispatch_flat(Shader::GatedActivation, params, VK_NULL_HANDLE, n, 256);
    ++versions_[static_cast<size_t>(Act::Gate)];
}

void VulkanBackend::add(Act into, Act from) {
    sync(region(into) | region(from), region(into));
    const uint64_t n = uint64_t(plan_->n_tokens) * act_stride(into);  // padding: 0 + 0 = 0
    const AddParams params{act_word(into), act_word(from), static_cast<uint32_t>(n)};
    dispatch_flat(Shader::Add, params, VK_NULL_HANDLE, n, 256);
    ++versions_[static_cast<size_t>(into)];
}

void VulkanBackend::output(const Weight &lm_head, Act normed) {
    const BatchPlan &plan = *plan_;
    if (plan.n_outputs == 0) return;
    if (config_.keep_embeddings) {
        const uint64_t row_bytes = uint64_t(model_.hparams.n_embd) * 4;
        for (int32_t o = 0; o < plan.n_outputs; ++o) {
            copy_regions_[o] = VkBufferCopy{(uint64_t(act_word(normed)) + uint64_t(plan.output_entries[o]) * act_stride(normed)) * 4,
                                            layout_.readback_embeddings + o * row_bytes, row_bytes};
        }
        sync(region(normed), kHidden);
        device_->fn().vkCmdCopyBuffer(cmd_, work_.handle(), readback_.handle(), static_cast<uint32_t>(plan.n_outputs),
                                      copy_regions_);
    }
    sync(region(normed) | kMeta, kLogits);
    project_float(lm_head, normed, normed, /*lm_head=*/true);
}

void VulkanBackend::end() {
    host_barrier(cmd_);
    // The timeout is a backstop against a device that never answers, not a speed limit: it grows
    // with the batch, and a CPU implementation (lavapipe) may take a minute per token of a large model.
    const uint64_t per_token = device_->type() == VK_PHYSICAL_DEVICE_TYPE_CPU ? vk::kSubmitTimeoutNanoseconds
                                                                              : 1000ull * 1000 * 1000;
    commands_->submit_and_wait("decode", vk::kSubmitTimeoutNanoseconds + per_token * uint64_t(plan_->n_tokens));
    const BatchPlan &plan = *plan_;
    if (plan.n_outputs == 0) return;
    readback_.invalidate();
    const HyperParams &hp = model_.hparams;
    count_vulkan_host_read();  // the logits (and the embeddings, when kept: the same buffer)
    std::memcpy(outputs_.logits, readback_.mapped(), static_cast<size_t>(plan.n_outputs) * hp.n_vocab * sizeof(float));
    if (config_.keep_embeddings && outputs_.embeddings) {
        std::memcpy(outputs_.embeddings, readback_.mapped() + layout_.readback_embeddings,
                    static_cast<size_t>(plan.n_outputs) * hp.n_embd * sizeof(float));
    }
}

// The key rotation of a context shift (vulkan_kv_cells.cpp) records through the same helper.
template void VulkanBackend::dispatch_flat<shader::RopeShiftParams>(Shader, const shader::RopeShiftParams &,
                                                                      VkDescriptorSet, uint64_t, uint32_t);

// ---------------------------------------------------------------------------------------------
// Entry points for the factory
// ---------------------------------------------------------------------------------------------

const VulkanAvailability &vulkan_availability() {
    static const VulkanAvailability availability = [] {
        const vk::Probe &probe = vk::probe();
        VulkanAvailability a;
        a.loader_found = probe.loader_found;
        a.problem = probe.problem;
        for (const vk::DeviceInfo &device : probe.devices) {
            a.devices.push_back({device.name, vk::device_type_name(device.type), vk::is_gpu(device.type)});
        }
        return a;
    }();
    return availability;
}

std::unique_ptr<Backend> create_vulkan_backend(const bitnet_model &model, const ContextConfig &config, KvCache &kv,
                                               Arena &arena) {
    VulkanBackendConfig vulkan_config{config.n_batch, config.n_outputs_max, config.quantize_activations, config.embeddings,
                                      config.device_index};
    return std::make_unique<VulkanBackend>(model, vulkan_config, kv, arena);
}

}  // namespace bitnet
