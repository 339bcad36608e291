// C API: loading, freeing and querying models.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "api/guard.h"
#include "api/params_reader.h"
#include "bitnet.h"
#include "model/model.h"
#include "util/c_enum.h"
#include "util/log.h"

namespace {

bitnet::LoadOptions options_from(const bitnet_model_params *given, const char *function) {
    const bitnet_model_params params =
        bitnet::read_params(given, bitnet_model_default_params(), function, "bitnet_model_default_params");
    if (!bitnet::c_enum_in_range(params.head_type, BITNET_HEAD_AS_STORED, BITNET_HEAD_Q4_0)) {
        bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: params->head_type %d is not a bitnet_head_type value", function,
                     bitnet::c_enum_bits(params.head_type));
    }
    bitnet::LoadOptions options;
    options.progress_callback = params.progress_callback;
    options.progress_user_data = params.progress_user_data;
    options.head_type = params.head_type;
    options.vocab_only = params.vocab_only;
    options.use_mmap = params.use_mmap;
    options.metadata_only = params.metadata_only;
    options.use_mlock = params.use_mlock;
    return options;
}

// use_mlock: a lock that the OS refuses (RLIMIT_MEMLOCK) never fails the load; the model runs
// unlocked, as with use_mlock = false, and the warning says what to change.
void lock_or_warn(bitnet::MappedFile &file, const char *path) {
    const std::string why_not = file.lock_in_memory();
    if (why_not.empty()) {
        LOG_INFO("locked the %zu bytes of '%s' in memory (use_mlock)", file.size(), path);
    } else {
        LOG_WARN("use_mlock: cannot lock '%s' in memory, continuing without the lock: %s", path, why_not.c_str());
    }
}

template <class Body>
bitnet_status load_guarded(const char *function, bitnet_model **out_model, Body &&body) {
    if (out_model) *out_model = nullptr;
    return bitnet::api_guard(function, [&] {
        bitnet::require_argument(out_model != nullptr, function, "out_model is NULL");
        *out_model = body().release();
    });
}

}  // namespace

extern "C" {

BITNET_API bitnet_model_params bitnet_model_default_params(void) {
    bitnet_model_params params;
    std::memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.head_type = BITNET_HEAD_AS_STORED;
    params.use_mmap = true;
    return params;
}

BITNET_API bitnet_status bitnet_model_load_file(const char *path, const bitnet_model_params *params,
                                                bitnet_model **out_model) {
    return load_guarded(__func__, out_model, [&, function = __func__] {
        bitnet::require_argument(path != nullptr, function, "path is NULL");
        bitnet::LoadOptions options = options_from(params, function);
        bitnet::MappedFile file = options.use_mmap ? bitnet::MappedFile::open(path) : bitnet::MappedFile::read(path);
        if (options.use_mlock && !options.vocab_only && !options.metadata_only) lock_or_warn(file, path);
        return bitnet::load_model(std::move(file), options);
    });
}

BITNET_API bitnet_status bitnet_model_load_memory(const void *data, size_t size, const bitnet_model_params *params,
                                                  bitnet_model **out_model) {
    return load_guarded(__func__, out_model, [&, function = __func__] {
        bitnet::require_argument(data != nullptr, function, "data is NULL");
        bitnet::require_argument(size > 0, function, "size is 0");
        // Tensor data is read in place. The vector kernels use unaligned loads, but scalar code reads
        // f32 and f16 values through typed pointers. Tensors start at multiples of general.alignment
        // (32 unless the file says otherwise), so an 8-byte aligned image keeps them 8-aligned in
        // memory; bind_weights() refuses a tensor that still lands misaligned for its type.
        bitnet::require_argument(reinterpret_cast<uintptr_t>(data) % 8 == 0, function,
                                 "data must be aligned to 8 bytes");
        bitnet::LoadOptions options = options_from(params, function);
        return bitnet::load_model(bitnet::MappedFile::borrow(data, size), options);
    });
}

BITNET_API void bitnet_model_free(bitnet_model *model) { delete model; }

BITNET_API const char *bitnet_model_architecture(const bitnet_model *model) {
    return bitnet::non_null(model, __func__, "model") ? model->architecture_name.c_str() : "";
}

BITNET_API const char *bitnet_model_name(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->name.c_str() : ""; }

BITNET_API uint64_t bitnet_model_n_params(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->n_params : 0; }

BITNET_API uint64_t bitnet_model_file_size(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->mapping.size() : 0; }

BITNET_API int32_t bitnet_model_n_layer(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->hparams.n_layer : 0; }
BITNET_API int32_t bitnet_model_n_embd(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->hparams.n_embd : 0; }
BITNET_API int32_t bitnet_model_n_head(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->hparams.n_head : 0; }
BITNET_API int32_t bitnet_model_n_head_kv(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->hparams.n_head_kv : 0; }
BITNET_API int32_t bitnet_model_n_ff(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->hparams.n_ff : 0; }
BITNET_API int32_t bitnet_model_n_vocab(const bitnet_model *model) { return bitnet::non_null(model, __func__, "model") ? model->hparams.n_vocab : 0; }
BITNET_API int32_t bitnet_model_n_ctx_train(const bitnet_model *model) {
    return bitnet::non_null(model, __func__, "model") ? model->hparams.n_ctx_train : 0;
}
BITNET_API float bitnet_model_rope_freq_base(const bitnet_model *model) {
    return bitnet::non_null(model, __func__, "model") ? model->hparams.rope_freq_base : 0.0f;
}
BITNET_API int64_t bitnet_model_n_tensors(const bitnet_model *model) {
    return bitnet::non_null(model, __func__, "model") ? static_cast<int64_t>(model->file.tensors().size()) : 0;
}

BITNET_API int64_t bitnet_model_meta_value(const bitnet_model *model, const char *key, char *buf, size_t capacity) {
    int64_t result = -1;
    bitnet_status status = bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(model != nullptr, function, "model is NULL");
        bitnet::require_argument(key != nullptr, function, "key is NULL");
        bitnet::require_argument(buf != nullptr || capacity == 0, function, "buf is NULL but capacity is not 0");
        const bitnet::gguf::MetadataEntry *entry = model->file.find(key);
        if (!entry) {
            bitnet::set_last_error(BITNET_ERR_INVALID_ARGUMENT,
                                   std::string(function) + ": no metadata key '" + key + "'");
            return;
        }
        std::string text = model->file.render(entry->value, 16);
        result = bitnet::copy_text_out(text, buf, capacity);
    });
    return status == BITNET_OK ? result : -1;
}

BITNET_API int64_t bitnet_model_meta_count(const bitnet_model *model) {
    return bitnet::non_null(model, __func__, "model") ? static_cast<int64_t>(model->file.metadata().size()) : 0;
}

BITNET_API const char *bitnet_model_meta_key(const bitnet_model *model, int64_t i) {
    if (!bitnet::non_null(model, __func__, "model")) return nullptr;
    const auto &metadata = model->file.metadata();
    if (i < 0 || i >= static_cast<int64_t>(metadata.size())) {
        bitnet::record_failure(BITNET_ERR_INVALID_ARGUMENT, "%s: index %lld is outside 0..%lld", __func__,
                               static_cast<long long>(i), static_cast<long long>(metadata.size()) - 1);
        return nullptr;
    }
    return metadata[static_cast<size_t>(i)].key.c_str();
}

}  // extern "C"
