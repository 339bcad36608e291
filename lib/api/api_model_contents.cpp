// C API: what a model's file holds (metadata values by index, the tensor table), for tools such
// as `bitnet inspect` that must not reach into the engine's headers.
#include <cinttypes>
#include <cstddef>
#include <cstring>
#include <string>

#include "api/guard.h"
#include "bitnet.h"
#include "model/model.h"

namespace {

// The first version of bitnet_tensor_info ends with n_bytes; a caller's struct must reach that far.
constexpr size_t kTensorInfoFirstVersionSize = offsetof(bitnet_tensor_info, n_bytes) + sizeof(uint64_t);

}  // namespace

extern "C" {

BITNET_API int64_t bitnet_model_meta_value_by_index(const bitnet_model *model, int64_t index,
                                                    int64_t max_array_elements, char *buf, size_t capacity) {
    int64_t result = -1;
    bitnet_status status = bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(model != nullptr, function, "model is NULL");
        bitnet::require_argument(buf != nullptr || capacity == 0, function, "buf is NULL but capacity is not 0");
        bitnet::require_argument(max_array_elements >= 0, function, "max_array_elements is negative");
        const auto &metadata = model->file.metadata();
        if (index < 0 || index >= static_cast<int64_t>(metadata.size())) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: index %" PRId64 " is out of range (the model has %zu metadata keys)",
                         function, index, metadata.size());
        }
        std::string text = model->file.render(metadata[static_cast<size_t>(index)].value,
                                              static_cast<uint64_t>(max_array_elements));
        result = bitnet::copy_text_out(text, buf, capacity);
    });
    return status == BITNET_OK ? result : -1;
}

BITNET_API bitnet_status bitnet_model_tensor_info(const bitnet_model *model, int64_t index, bitnet_tensor_info *out) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(model != nullptr, function, "model is NULL");
        bitnet::require_argument(out != nullptr, function, "out is NULL");
        if (out->struct_size < kTensorInfoFirstVersionSize) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT,
                         "%s: out->struct_size is %zu, smaller than the %zu bytes of the first bitnet_tensor_info "
                         "(set it to sizeof(bitnet_tensor_info))",
                         function, out->struct_size, kTensorInfoFirstVersionSize);
        }
        const auto &tensors = model->file.tensors();
        if (index < 0 || index >= static_cast<int64_t>(tensors.size())) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: index %" PRId64 " is out of range (the model has %zu tensors)",
                         function, index, tensors.size());
        }
        const bitnet::gguf::TensorInfo &tensor = tensors[static_cast<size_t>(index)];
        // The first version's fields; fields appended later are written only when out->struct_size
        // covers them.
        out->name = tensor.name.c_str();
        out->type_name = tensor.type_label;
        out->n_dims = static_cast<int32_t>(tensor.n_dims);
        for (int d = 0; d < 4; ++d) out->dims[d] = static_cast<int64_t>(tensor.dims[d]);
        out->data_offset = model->file.data_offset() + tensor.offset;
        out->n_bytes = tensor.n_bytes;
        if (out->struct_size >= offsetof(bitnet_tensor_info, unrunnable) + sizeof(out->unrunnable)) {
            out->file_type_id = tensor.raw_type;
            out->unrunnable = tensor.unrunnable.empty() ? nullptr : tensor.unrunnable.c_str();
        }
    });
}

BITNET_API bitnet_status bitnet_model_runnable(const bitnet_model *model) {
    return bitnet::api_guard(__func__, [&, function = __func__] {
        bitnet::require_argument(model != nullptr, function, "model is NULL");
        bitnet::check_runnable(*model);
    });
}

}  // extern "C"
