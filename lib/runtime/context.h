// The opaque context: KV cache, scratch and outputs for decoding with one model.
#pragma once

#include <memory>
#include <string>

#include "bitnet.h"
#include "model/model.h"
#include "runtime/arena.h"
#include "runtime/backend.h"
#include "runtime/batch_plan.h"
#include "runtime/kv_cache.h"
#include "runtime/op_profile.h"

namespace bitnet {

// bitnet_context_params with every default resolved and every limit checked.
struct ContextConfig {
    uint32_t n_ctx = 0;
    int32_t n_batch = 0;
    int32_t n_seq_max = 0;
    int32_t n_outputs_max = 0;
    int32_t n_threads = 0;
    bitnet_kv_type kv_type = BITNET_KV_F16;
    bool quantize_activations = true;
    bool embeddings = false;
    bitnet_abort_callback abort_callback = nullptr;
    void *abort_user_data = nullptr;
    bitnet_backend_type backend = BITNET_BACKEND_CPU;  // resolved: CPU or VULKAN, never AUTO
    int32_t device_index = 0;
};

ContextConfig resolve_context_params(const bitnet_model &model, const bitnet_context_params &params);

}  // namespace bitnet

struct bitnet_context {
    const bitnet_model *model = nullptr;
    bitnet::ContextConfig config;
    bitnet::AlignedBuffer owned_memory;  // empty when the caller supplied the buffer
    size_t memory_bytes = 0;
    bitnet::KvCache kv;
    bitnet::PlanScratch plan_scratch;
    bitnet::BatchPlan plan;
    std::unique_ptr<bitnet::Backend> backend;
    std::unique_ptr<bitnet::OpProfile> profile;  // BITNET_PROFILE=1: times every op of `backend`
    std::string backend_name;

    float *logits = nullptr;              // [n_outputs_max][n_vocab]
    float *embeddings = nullptr;          // [n_outputs_max][n_embd] when kept
    int32_t *output_row_of_entry = nullptr;  // [n_batch], -1 for entries without logits
    int32_t last_n_entries = 0;
    int32_t last_output_entry = -1;

    // Lay out every buffer in `arena` (a measuring arena leaves the pointers null).
    void layout(bitnet::Arena &arena);
    ~bitnet_context();
};

namespace bitnet {

// Bytes a context with `config` needs from its arena.
size_t context_memory_required(const bitnet_model &model, const ContextConfig &config);
std::unique_ptr<bitnet_context> create_context(const bitnet_model &model, const ContextConfig &config, void *buffer,
                                               size_t buffer_size);
void decode(bitnet_context &context, const bitnet_batch &batch);

}  // namespace bitnet
