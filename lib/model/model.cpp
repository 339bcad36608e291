// Model loading: architecture and hyperparameters from metadata, every weight bound by name and
// checked by shape and type (formats.md §2.7-2.9).
#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <xxhash.h>

#include "model/model_lifetime.h"
#include "model/model_weights.h"
#include "tensor/quantize.h"
#include "tokenizer/vocabulary.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {
namespace {

Architecture parse_architecture(const std::string &name) {
    // "bitnet-25" was the first 2B-4T upload's name for the same graph (formats.md §2.7).
    if (name == "bitnet-b1.58" || name == "bitnet-25") return Architecture::BitNetB158;
    if (name == "bitnet") return Architecture::BitNet;
    if (name == "llama") return Architecture::Llama;
    if (name.empty()) fail(BITNET_ERR_INVALID_MODEL, "gguf: general.architecture is missing");
    fail(BITNET_ERR_UNSUPPORTED,
         "architecture '%s' is not supported (supported: bitnet-b1.58, bitnet-25, bitnet, llama)", name.c_str());
}

// A required positive hyperparameter, stored under "<arch>.<suffix>".
int32_t required_count(const gguf::File &file, const char *suffix, int64_t max_value) {
    std::string key = file.arch_key(suffix);
    std::optional<uint64_t> value = file.get_uint(key);
    if (!value) fail(BITNET_ERR_INVALID_MODEL, "model: required key '%s' is missing", key.c_str());
    if (*value == 0 || *value > static_cast<uint64_t>(max_value)) {
        fail(BITNET_ERR_INVALID_MODEL, "model: '%s' = %llu is out of range [1, %lld]", key.c_str(),
             static_cast<unsigned long long>(*value), static_cast<long long>(max_value));
    }
    return static_cast<int32_t>(*value);
}

int32_t optional_count(const gguf::File &file, const char *suffix, int32_t fallback, int64_t max_value) {
    if (!file.find(file.arch_key(suffix))) return fallback;
    return required_count(file, suffix, max_value);
}

float optional_float(const gguf::File &file, const char *suffix, float fallback) {
    std::optional<double> value = file.get_float(file.arch_key(suffix));
    return value ? static_cast<float>(*value) : fallback;
}

FfnActivation read_activation(const gguf::File &file, Architecture arch) {
    // The 2B-4T graph is ReLU² (formats.md §2.8, §6.4). llama.cpp's "bitnet" reads
    // `<arch>.hidden_activation` and defaults to SiLU for backward compatibility (§2.7).
    FfnActivation fallback = arch == Architecture::BitNetB158 ? FfnActivation::ReluSquared : FfnActivation::Silu;
    std::string key = file.arch_key("hidden_activation");
    std::optional<std::string_view> name = file.get_string(key);
    if (!name) return fallback;
    if (*name == "relu2" || *name == "relu_sqr" || *name == "relu_squared") return FfnActivation::ReluSquared;
    if (*name == "silu" || *name == "swish") return FfnActivation::Silu;
    fail(BITNET_ERR_UNSUPPORTED, "model: %s = '%.*s' is not a supported activation (relu2, silu)", key.c_str(),
         static_cast<int>(name->size()), name->data());
}

HyperParams read_hyperparams(const gguf::File &file, Architecture arch, bool vocab_only) {
    HyperParams hp;
    constexpr int64_t kMaxDim = 1 << 20;
    hp.n_embd = required_count(file, "embedding_length", kMaxDim);
    hp.n_layer = required_count(file, "block_count", 4096);
    hp.n_ff = required_count(file, "feed_forward_length", kMaxDim);
    hp.n_head = required_count(file, "attention.head_count", 4096);
    hp.n_head_kv = optional_count(file, "attention.head_count_kv", hp.n_head, 4096);
    hp.n_ctx_train = optional_count(file, "context_length", 0, int64_t(1) << 30);
    hp.norm_eps = optional_float(file, "attention.layer_norm_rms_epsilon", 1e-5f);
    hp.rope_freq_base = optional_float(file, "rope.freq_base", 10000.0f);
    hp.activation = read_activation(file, arch);
    hp.has_sub_norms = arch != Architecture::Llama;
    hp.rope_neox = arch != Architecture::Llama;

    if (hp.n_embd % hp.n_head != 0) {
        fail(BITNET_ERR_INVALID_MODEL, "model: embedding_length %d is not a multiple of head_count %d", hp.n_embd,
             hp.n_head);
    }
    if (hp.n_head % hp.n_head_kv != 0) {
        fail(BITNET_ERR_INVALID_MODEL, "model: head_count %d is not a multiple of head_count_kv %d", hp.n_head,
             hp.n_head_kv);
    }
    hp.head_dim = hp.n_embd / hp.n_head;
    hp.n_rot = optional_count(file, "rope.dimension_count", hp.head_dim, 1 << 16);
    if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
        fail(BITNET_ERR_INVALID_MODEL, "model: rope.dimension_count %d must be even and at most the head size %d",
             hp.n_rot, hp.head_dim);
    }
    if (!(hp.norm_eps >= 0.0f && hp.norm_eps < 1.0f)) {
        fail(BITNET_ERR_INVALID_MODEL, "model: layer_norm_rms_epsilon %g is out of range", hp.norm_eps);
    }
    if (!(hp.rope_freq_base > 0.0f) || !std::isfinite(hp.rope_freq_base)) {
        fail(BITNET_ERR_INVALID_MODEL, "model: rope.freq_base %g must be positive", hp.rope_freq_base);
    }

    // Vocabulary size: the key, else the embedding's rows, else the tokenizer's token count.
    hp.n_vocab = optional_count(file, "vocab_size", 0, int64_t(1) << 24);
    if (hp.n_vocab == 0) {
        if (const gguf::TensorInfo *embd = file.find_tensor("token_embd.weight"); embd && embd->n_dims == 2) {
            hp.n_vocab = static_cast<int32_t>(embd->dims[1]);
        } else if (const gguf::MetadataEntry *tokens = file.find("tokenizer.ggml.tokens")) {
            hp.n_vocab = static_cast<int32_t>(tokens->value.count);
        } else if (!vocab_only) {
            fail(BITNET_ERR_INVALID_MODEL, "model: cannot tell the vocabulary size (no %s, token_embd.weight or tokens)",
                 file.arch_key("vocab_size").c_str());
        }
    }
    return hp;
}

// Identifies the model for state files: xxh3-64 of the metadata and tensor table, chained with the
// first and last 64 KiB of tensor data so that two models of one shape but other weights differ.
// Reads at most 128 KiB of the data: loading stays zero-copy.
uint64_t fingerprint(const uint8_t *image, uint64_t size, uint64_t data_offset) {
    constexpr uint64_t kSample = 64 * 1024;
    // A file without tensors may end before its (aligned) data section would start.
    data_offset = std::min(data_offset, size);
    uint64_t hash = XXH3_64bits(image, data_offset);
    const uint64_t data_bytes = size - data_offset;
    const uint64_t head = std::min(kSample, data_bytes);
    hash = XXH3_64bits_withSeed(image + data_offset, head, hash);
    const uint64_t tail = std::min(kSample, data_bytes - head);
    return XXH3_64bits_withSeed(image + size - tail, tail, hash);
}

bool report_progress(const LoadOptions &options, float progress) {
    if (!options.progress_callback) return true;
    return options.progress_callback(progress, options.progress_user_data);
}

// A metadata-only open: the file's tables, and whatever of the architecture and hyperparameters
// reads cleanly (zeros otherwise): bitnet_model_runnable() reports what stops a real load.
void read_what_metadata_allows(bitnet_model &model) {
    const gguf::File &file = model.file;
    try {
        model.arch = parse_architecture(model.architecture_name);
        model.hparams = read_hyperparams(file, model.arch, /*vocab_only=*/true);
    } catch (const Error &) {
        model.hparams = HyperParams{};
    }
}

}  // namespace

std::unique_ptr<bitnet_model> load_model(MappedFile mapping, const LoadOptions &options) {
    auto model = std::make_unique<bitnet_model>();
    model->load_id = next_model_load_id();
    model->mapping = std::move(mapping);
    gguf::ParseOptions parse_options;
    parse_options.keep_unrunnable_types = options.metadata_only;
    model->file = gguf::File::parse(model->mapping.data(), model->mapping.size(), parse_options);
    const gguf::File &file = model->file;
    model->fingerprint = fingerprint(model->mapping.data(), model->mapping.size(), file.data_offset());
    if (!report_progress(options, 0.1f)) fail(BITNET_ERR_CANCELLED, "model load cancelled by the progress callback");

    if (options.metadata_only) {
        model->metadata_only = true;
        model->architecture_name = file.architecture();
        if (std::optional<std::string_view> name = file.get_string("general.name"); name) model->name = std::string(*name);
        for (const gguf::TensorInfo &tensor : file.tensors()) model->n_params += tensor.n_elements;
        read_what_metadata_allows(*model);
        if (!report_progress(options, 1.0f)) fail(BITNET_ERR_CANCELLED, "model load cancelled by the progress callback");
        return model;
    }

    model->architecture_name = file.architecture();
    model->arch = parse_architecture(model->architecture_name);
    if (std::optional<std::string_view> name = file.get_string("general.name")) model->name = std::string(*name);
    model->hparams = read_hyperparams(file, model->arch, options.vocab_only);
    for (const gguf::TensorInfo &tensor : file.tensors()) model->n_params += tensor.n_elements;

    model->vocab = Vocabulary::load(file);
    if (!report_progress(options, 0.3f)) fail(BITNET_ERR_CANCELLED, "model load cancelled by the progress callback");

    if (!options.vocab_only) {
        bind_weights(*model, options);
        if (!report_progress(options, 0.9f)) fail(BITNET_ERR_CANCELLED, "model load cancelled by the progress callback");
    }
    LOG_INFO("loaded %s model '%s': %d layers, n_embd %d, n_ff %d, heads %d/%d, vocab %d, %zu tensors, %.1f MiB "
             "mapped%s, %.1f MiB repacked",
             model->architecture_name.c_str(), model->name.c_str(), model->hparams.n_layer, model->hparams.n_embd,
             model->hparams.n_ff, model->hparams.n_head, model->hparams.n_head_kv, model->hparams.n_vocab,
             file.tensors().size(), model->mapping.size() / 1048576.0,
             model->mapping.owns_mapping() ? "" : " (caller memory)", model->owned_bytes / 1048576.0);
    if (!report_progress(options, 1.0f)) fail(BITNET_ERR_CANCELLED, "model load cancelled by the progress callback");
    return model;
}

void check_runnable(const bitnet_model &model) {
    if (!model.metadata_only && !model.weights.layers.empty()) return;  // it was loaded fully
    LoadOptions options;
    options.validate_only = true;
    load_model(MappedFile::borrow(model.mapping.data(), model.mapping.size()), options);
}

}  // namespace bitnet

// First, while the weights still exist: caches made from them let go of them here.
bitnet_model::~bitnet_model() {
    if (load_id != 0) bitnet::notify_model_freed(load_id);
}
