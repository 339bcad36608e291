#include "gguf/model_keys.h"

#include "util/error.h"

namespace bitnet::gguf {

void write_model_keys_head(Writer &writer, const ModelKeys &keys) {
    const std::string &arch = keys.architecture;
    writer.set_string("general.architecture", arch);
    writer.set_string("general.name", keys.name);
    writer.set_u32(arch + ".vocab_size", keys.n_vocab);
    writer.set_u32(arch + ".context_length", keys.n_ctx);
    writer.set_u32(arch + ".embedding_length", keys.n_embd);
    writer.set_u32(arch + ".block_count", keys.n_layer);
    writer.set_u32(arch + ".feed_forward_length", keys.n_ff);
    writer.set_u32(arch + ".rope.dimension_count", keys.n_embd / keys.n_head);
    writer.set_u32(arch + ".attention.head_count", keys.n_head);
    writer.set_u32(arch + ".attention.head_count_kv", keys.n_head_kv);
}

void write_model_keys_tail(Writer &writer, const ModelKeys &keys) {
    const std::string &arch = keys.architecture;
    writer.set_f32(arch + ".attention.layer_norm_rms_epsilon", keys.rms_eps);
    writer.set_f32(arch + ".rope.freq_base", keys.rope_freq_base);
    writer.set_u32("general.file_type", keys.file_type);
    if (!keys.hidden_activation.empty()) writer.set_string(arch + ".hidden_activation", keys.hidden_activation);
}

uint32_t llama_file_type(TensorType type) {
    switch (type) {
        case TensorType::F32: return 0;
        case TensorType::F16: return 1;
        case TensorType::BF16: return 32;
        case TensorType::TQ1_0: return 36;
        case TensorType::TQ2_0: return 37;
        case TensorType::I2_S: return 40;
        default: fail(BITNET_ERR_INVALID_ARGUMENT, "%s is not a projection format", tensor_type_name(type));
    }
}

}  // namespace bitnet::gguf
