#include "runtime/context.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "backend/backend_registry.h"
#include "runtime/forward.h"
#include "util/c_enum.h"
#include "util/cpu_count.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {

ContextConfig resolve_context_params(const bitnet_model &model, const bitnet_context_params &params) {
    if (model.weights.layers.empty()) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "context: the model was loaded with vocab_only or metadata_only and has no weights");
    }
    ContextConfig config;
    constexpr uint32_t kDefaultMaxContext = 4096;
    constexpr uint32_t kMaxContext = 1u << 20;
    uint32_t n_ctx = params.n_ctx;
    if (n_ctx == 0) {
        n_ctx = model.hparams.n_ctx_train > 0 ? static_cast<uint32_t>(model.hparams.n_ctx_train) : kDefaultMaxContext;
        n_ctx = std::min(n_ctx, kDefaultMaxContext);
    }
    if (n_ctx > kMaxContext) fail(BITNET_ERR_INVALID_ARGUMENT, "context: n_ctx %u exceeds %u", n_ctx, kMaxContext);
    config.n_ctx = n_ctx;
    uint32_t n_batch = params.n_batch == 0 ? 512 : params.n_batch;
    config.n_batch = static_cast<int32_t>(std::min(n_batch, n_ctx));
    uint32_t n_seq_max = params.n_seq_max == 0 ? 1 : params.n_seq_max;
    if (n_seq_max > static_cast<uint32_t>(KvCache::kMaxSequences)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "context: n_seq_max %u exceeds %d", n_seq_max, KvCache::kMaxSequences);
    }
    config.n_seq_max = static_cast<int32_t>(n_seq_max);
    uint32_t n_outputs = params.n_outputs_max == 0 ? n_seq_max : params.n_outputs_max;
    config.n_outputs_max = static_cast<int32_t>(std::min<uint32_t>(n_outputs, static_cast<uint32_t>(config.n_batch)));
    if (params.n_threads < 0) fail(BITNET_ERR_INVALID_ARGUMENT, "context: n_threads %d is negative", params.n_threads);
    // More threads than the CPUs the process may use only adds contention (each kernel splits its
    // rows over the threads and waits for the slowest), so a larger request runs with one per CPU.
    const int32_t cpus = available_cpus();
    config.n_threads = params.n_threads == 0 ? cpus : std::min(params.n_threads, cpus);
    if (params.n_threads > cpus) {
        LOG_WARN("context: n_threads %d exceeds the %d CPUs this process may use; using %d", params.n_threads, cpus, cpus);
    }
    // Enum fields from C are checked as integers first (util/c_enum.h).
    if (!c_enum_in_range(params.kv_type, BITNET_KV_F16, BITNET_KV_F32)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "context: kv_type %d is not a bitnet_kv_type", c_enum_bits(params.kv_type));
    }
    config.kv_type = params.kv_type;
    config.quantize_activations = params.quantize_activations;
    config.embeddings = params.embeddings;
    config.abort_callback = params.abort_callback;
    config.abort_user_data = params.abort_user_data;
    if (!c_enum_in_range(params.backend, BITNET_BACKEND_AUTO, BITNET_BACKEND_VULKAN)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "context: backend %d is not a bitnet_backend_type", c_enum_bits(params.backend));
    }
    if (params.device_index < 0) fail(BITNET_ERR_INVALID_ARGUMENT, "context: device_index %d is negative", params.device_index);
    config.device_index = params.device_index;
    config.backend = resolve_backend(params.backend, params.device_index);
    return config;
}

size_t context_memory_required(const bitnet_model &model, const ContextConfig &config) {
    bitnet_context measuring;
    measuring.model = &model;
    measuring.config = config;
    Arena arena;
    measuring.layout(arena);
    return arena.required();
}

std::unique_ptr<bitnet_context> create_context(const bitnet_model &model, const ContextConfig &config, void *buffer,
                                               size_t buffer_size) {
    const size_t required = context_memory_required(model, config);
    auto context = std::make_unique<bitnet_context>();
    context->model = &model;
    context->config = config;
    if (buffer) {
        if (reinterpret_cast<uintptr_t>(buffer) % Arena::kAlignment != 0) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "context: the caller's buffer must be %zu-byte aligned", Arena::kAlignment);
        }
        if (buffer_size < required) {
            fail(BITNET_ERR_OUT_OF_MEMORY, "context: the caller's buffer has %zu bytes, %zu are required", buffer_size,
                 required);
        }
    } else {
        context->owned_memory = AlignedBuffer(required);
        buffer = context->owned_memory.data();
        buffer_size = required;
    }
    context->memory_bytes = required;
    Arena arena(buffer, buffer_size);
    context->layout(arena);
    context->kv.clear();
    context->backend->set_outputs({context->logits, context->embeddings});
    context->backend_name = context->backend->name();
    if (const char *profile = std::getenv("BITNET_PROFILE"); profile && std::strcmp(profile, "0") != 0) {
        context->profile = std::make_unique<OpProfile>(*context->backend);
    }
    LOG_INFO("context: n_ctx %u, n_batch %d, %d sequences, KV %s, %.1f MiB, backend %s", config.n_ctx, config.n_batch,
             config.n_seq_max, config.kv_type == BITNET_KV_F16 ? "f16" : "f32", required / 1048576.0,
             context->backend_name.c_str());
    return context;
}

void decode(bitnet_context &context, const bitnet_batch &batch) {
    const bitnet_model &model = *context.model;
    const ContextConfig &config = context.config;
    PlanLimits limits{model.hparams.n_vocab, config.n_batch, config.n_seq_max, config.n_outputs_max};
    plan_batch(batch, limits, context.kv, context.plan_scratch, context.plan);

    auto should_abort = [&]() { return config.abort_callback && config.abort_callback(config.abort_user_data); };
    Ops &ops = context.profile ? static_cast<Ops &>(*context.profile) : *context.backend;
    forward(model, context.plan, ops, should_abort);

    // Success: publish the cells and the output map together.
    context.kv.publish_working();
    const BatchPlan &plan = context.plan;
    std::fill(context.output_row_of_entry, context.output_row_of_entry + plan.n_tokens, -1);
    for (int32_t o = 0; o < plan.n_outputs; ++o) context.output_row_of_entry[plan.output_entries[o]] = o;
    context.last_n_entries = plan.n_tokens;
    context.last_output_entry = plan.n_outputs > 0 ? plan.output_entries[plan.n_outputs - 1] : -1;
}

}  // namespace bitnet

bitnet_context::~bitnet_context() {
    if (profile) LOG_INFO("context (%s) %s", backend_name.c_str(), profile->report().c_str());
}

void bitnet_context::layout(bitnet::Arena &arena) {
    const bitnet::HyperParams &hp = model->hparams;
    kv.layout(arena, hp.n_layer, hp.head_dim * hp.n_head_kv, config.n_ctx, config.kv_type,
              bitnet::backend_keeps_kv_on_host(config.backend));
    plan_scratch.layout(arena, {hp.n_vocab, config.n_batch, config.n_seq_max, config.n_outputs_max});
    logits = arena.allocate<float>(static_cast<size_t>(config.n_outputs_max) * hp.n_vocab);
    embeddings = config.embeddings ? arena.allocate<float>(static_cast<size_t>(config.n_outputs_max) * hp.n_embd) : nullptr;
    output_row_of_entry = arena.allocate<int32_t>(static_cast<size_t>(config.n_batch));
    backend = bitnet::create_backend(*model, config, kv, arena);
}
