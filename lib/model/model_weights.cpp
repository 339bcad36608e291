// Binding weights by name: every required tensor must exist with the expected shape and a type
// the engine can run; optional ones (output.weight, per-tensor .scale) are picked up when present.
#include "model/model_weights.h"

#include <algorithm>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "model/weight_packing.h"
#include "tensor/quantize.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {
namespace {

std::string shape_string(const gguf::TensorInfo &tensor) {
    std::string out = "[";
    for (uint32_t i = 0; i < tensor.n_dims; ++i) {
        if (i) out += ", ";
        out += std::to_string(tensor.dims[i]);
    }
    return out + "]";
}

// Plain float storage (F32, F16, BF16): projections of this kind run as float matmuls, or are
// packed into I2_S for the BitNet architectures.
bool is_float_type(TensorType type) { return tensor_type_traits(type).scale_rule == ScaleRule::None; }

enum class Role { Norm, Projection, Embedding };

// What each role accepts, read from the type table so that a new type needs no edit here: norms
// are f32 (read as floats); projections any type: ternary ones run as BitLinear, plain floats too
// in the BitNet graphs (packed to I2_S below), and the quantized non-ternary types (Q8_0, Q4_0 and
// the quantizer fallback types Q5_0, Q4_K, ...) as float projections, through gemm_float or the
// row-dequantizing path (formats.md §2.10); embeddings and the lm_head any non-ternary type (looked
// up and multiplied through its row decoder / gemm_float).
bool role_accepts(Role role, const TensorTypeTraits &traits) {
    switch (role) {
        case Role::Norm: return traits.type == TensorType::F32;
        case Role::Projection: return true;
        case Role::Embedding: return !traits.ternary;
    }
    return false;
}

std::string accepted_type_names(Role role) {
    size_t count = 0;
    const TensorTypeTraits *types = all_tensor_types(&count);
    std::string names;
    for (size_t i = 0; i < count; ++i) {
        if (!role_accepts(role, types[i])) continue;
        if (!names.empty()) names += ", ";
        names += types[i].name;
    }
    return names;
}

void check_type(const gguf::TensorInfo &tensor, Role role) {
    if (role_accepts(role, tensor_type_traits(tensor.type))) return;
    static const char *const role_names[] = {"a norm", "a projection", "an embedding/output"};
    fail(BITNET_ERR_UNSUPPORTED, "model: tensor '%s' has type %s, which is not supported for %s (needs one of: %s)",
         tensor.name.c_str(), tensor_type_name(tensor.type), role_names[static_cast<int>(role)],
         accepted_type_names(role).c_str());
}

// The tensor `name`, checked to have dims {cols} (rows == 0) or {cols, rows}.
Weight bind_tensor(const gguf::File &file, const std::string &name, uint64_t cols, uint64_t rows, Role role,
            bool required = true) {
    const gguf::TensorInfo *tensor = file.find_tensor(name);
    if (!tensor) {
        if (required) fail(BITNET_ERR_INVALID_MODEL, "model: required tensor '%s' is missing", name.c_str());
        return Weight{};
    }
    bool shape_ok = rows == 0 ? (tensor->n_dims == 1 && tensor->dims[0] == cols)
                              : (tensor->n_dims == 2 && tensor->dims[0] == cols && tensor->dims[1] == rows);
    if (!shape_ok) {
        std::string expected = rows == 0 ? "[" + std::to_string(cols) + "]"
                                         : "[" + std::to_string(cols) + ", " + std::to_string(rows) + "]";
        fail(BITNET_ERR_INVALID_MODEL, "model: tensor '%s' has shape %s, expected %s (info at byte %llu)",
             name.c_str(), shape_string(*tensor).c_str(), expected.c_str(),
             static_cast<unsigned long long>(tensor->info_offset));
    }
    check_type(*tensor, role);
    // Kernels read f32 and 16-bit values through typed pointers: the data must be aligned to them.
    // GGUF writers align tensors to 32 bytes, but a file may declare general.alignment 1 or 2.
    const uintptr_t needed = tensor_type_traits(tensor->type).data_alignment;
    if (reinterpret_cast<uintptr_t>(tensor->data) % needed != 0) {
        fail(BITNET_ERR_UNSUPPORTED,
             "model: tensor '%s' (%s) at file offset %llu is not aligned to %u bytes (the file's general.alignment "
             "is %llu)",
             name.c_str(), tensor_type_name(tensor->type),
             static_cast<unsigned long long>(file.data_offset() + tensor->offset), static_cast<unsigned>(needed),
             static_cast<unsigned long long>(file.alignment()));
    }
    Weight weight;
    weight.info = tensor;
    weight.type = tensor->type;
    weight.cols = cols;
    weight.stored_cols = cols;
    weight.rows = rows == 0 ? 1 : rows;
    weight.data = tensor->data;
    if (tensor_type_traits(tensor->type).scale_rule == ScaleRule::PerTensor) {
        weight.scale = tensor_scale(tensor->type, tensor->data, tensor->n_elements);  // the tail, §2.3
        if (!std::isfinite(weight.scale)) {
            fail(BITNET_ERR_INVALID_MODEL, "model: tensor '%s' has a non-finite %s scale", name.c_str(),
                 tensor_type_name(tensor->type));
        }
    }
    return weight;
}

// llama.cpp "bitnet" files may carry a one-element "<base>.scale" multiplied after the matmul;
// it is folded into the weight's scale (after any per-tensor scale of the type).
void apply_optional_scale(const gguf::File &file, const std::string &base, Weight &weight) {
    const gguf::TensorInfo *scale = file.find_tensor(base + ".scale");
    if (!scale) return;
    if (scale->n_elements != 1 || scale->type != TensorType::F32) {
        fail(BITNET_ERR_INVALID_MODEL, "model: tensor '%s.scale' must be a single f32 value (has %s %s)",
             base.c_str(), tensor_type_name(scale->type), shape_string(*scale).c_str());
    }
    float value;
    std::memcpy(&value, scale->data, sizeof value);
    if (!std::isfinite(value)) fail(BITNET_ERR_INVALID_MODEL, "model: tensor '%s.scale' is not finite", base.c_str());
    weight.scale = weight.scale * value;
}

Weight bind_projection(const gguf::File &file, const std::string &base, uint64_t cols, uint64_t rows) {
    Weight weight = bind_tensor(file, base + ".weight", cols, rows, Role::Projection);
    apply_optional_scale(file, base, weight);
    return weight;
}

}  // namespace

ScaledDecode scaled_decode(const Weight &weight) {
    if (tensor_type_traits(weight.type).scale_rule == ScaleRule::PerTensor) return {weight.scale, 1.0f};
    return {1.0f, weight.scale};
}

void bind_weights(bitnet_model &model, const LoadOptions &options) {
    const gguf::File &file = model.file;
    const HyperParams &hp = model.hparams;
    const uint64_t n_embd = hp.n_embd, n_ff = hp.n_ff, n_vocab = hp.n_vocab;
    const uint64_t n_embd_kv = static_cast<uint64_t>(hp.head_dim) * hp.n_head_kv;
    ModelWeights &weights = model.weights;

    weights.token_embd = bind_tensor(file, "token_embd.weight", n_embd, n_vocab, Role::Embedding);
    weights.output_norm = bind_tensor(file, "output_norm.weight", n_embd, 0, Role::Norm);
    // A tied lm_head (no output.weight) is normal: the 2B-4T file has none (formats.md §2.9).
    weights.output = bind_tensor(file, "output.weight", n_embd, n_vocab, Role::Embedding, /*required=*/false);
    if (!weights.output.present()) weights.output = weights.token_embd;
    if (options.head_type != BITNET_HEAD_AS_STORED && !options.validate_only) {
        static const TensorType head_types[] = {TensorType::F16, TensorType::F16, TensorType::Q8_0, TensorType::Q6_K,
                                                TensorType::Q4_0};
        requantize_output(model, head_types[options.head_type]);
    }

    weights.layers.resize(hp.n_layer);
    for (int32_t layer = 0; layer < hp.n_layer; ++layer) {
        const std::string prefix = "blk." + std::to_string(layer) + ".";
        LayerWeights &lw = weights.layers[layer];
        lw.attn_norm = bind_tensor(file, prefix + "attn_norm.weight", n_embd, 0, Role::Norm);
        lw.ffn_norm = bind_tensor(file, prefix + "ffn_norm.weight", n_embd, 0, Role::Norm);
        lw.wq = bind_projection(file, prefix + "attn_q", n_embd, n_embd);
        lw.wk = bind_projection(file, prefix + "attn_k", n_embd, n_embd_kv);
        lw.wv = bind_projection(file, prefix + "attn_v", n_embd, n_embd_kv);
        lw.wo = bind_projection(file, prefix + "attn_output", n_embd, n_embd);
        lw.ffn_gate = bind_projection(file, prefix + "ffn_gate", n_embd, n_ff);
        lw.ffn_up = bind_projection(file, prefix + "ffn_up", n_embd, n_ff);
        lw.ffn_down = bind_projection(file, prefix + "ffn_down", n_ff, n_embd);
        if (model.arch != Architecture::Llama && !options.validate_only) {
            // BitNet graphs run every projection as BitLinear, so float weights become I2_S here.
            for (Weight *w : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.ffn_gate, &lw.ffn_up, &lw.ffn_down}) {
                if (is_float_type(w->type)) pack_float_projection(model, *w);
            }
        }
        if (hp.has_sub_norms) {
            lw.attn_sub_norm = bind_tensor(file, prefix + "attn_sub_norm.weight", n_embd, 0, Role::Norm);
            lw.ffn_sub_norm = bind_tensor(file, prefix + "ffn_sub_norm.weight", n_ff, 0, Role::Norm);
        }
        if (options.progress_callback && layer % 4 == 3) {
            float progress = 0.3f + 0.6f * static_cast<float>(layer + 1) / static_cast<float>(hp.n_layer);
            if (!options.progress_callback(progress, options.progress_user_data)) {
                fail(BITNET_ERR_CANCELLED, "model load cancelled by the progress callback");
            }
        }
    }
}

}  // namespace bitnet
