#include "train/export_gguf.h"

#include <memory>

#include "gguf/gguf_writer.h"
#include "gguf/vocabulary_keys.h"
#include "tensor/quantize.h"
#include "train/atomic_file.h"
#include "train/quantizers.h"

namespace bitnet::train {

std::vector<uint8_t> export_gguf(const ModelShape &s, const std::vector<float> &parameters, const Tokenizer &tokenizer,
                                 const std::string &name) {
    check_shape(s);
    const ParameterLayout layout = ParameterLayout::of(s);
    const std::string arch = "bitnet-b1.58";
    gguf::Writer writer;
    // Keys in the official file's order (formats.md §2.9), the tokenizer ones for SPM instead of BPE.
    writer.set_string("general.architecture", arch);
    writer.set_string("general.name", name);
    writer.set_u32(arch + ".vocab_size", static_cast<uint32_t>(s.n_vocab));
    writer.set_u32(arch + ".context_length", static_cast<uint32_t>(s.n_ctx));
    writer.set_u32(arch + ".embedding_length", static_cast<uint32_t>(s.n_embd));
    writer.set_u32(arch + ".block_count", static_cast<uint32_t>(s.n_layer));
    writer.set_u32(arch + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
    writer.set_u32(arch + ".rope.dimension_count", static_cast<uint32_t>(s.head_dim()));
    writer.set_u32(arch + ".attention.head_count", static_cast<uint32_t>(s.n_head));
    writer.set_u32(arch + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
    const gguf::Vocabulary vocab = tokenizer.vocabulary();
    gguf::write_add_bos_key(writer, vocab);
    writer.set_f32(arch + ".attention.layer_norm_rms_epsilon", s.rms_eps);
    writer.set_f32(arch + ".rope.freq_base", s.rope_freq_base);
    writer.set_u32("general.file_type", 40);  // MOSTLY_I2_S (formats.md §2.9 #13)
    // model, tokens, scores, token_type, BOS, EOS, unknown id: the trainer's tokenizer has no pad id,
    // pre key or chat template, so nothing else is written.
    gguf::write_vocabulary_keys(writer, vocab);
    writer.set_u32("general.quantization_version", 2);

    auto shared = std::make_shared<const std::vector<float>>(parameters);
    for (const ParameterView *view : layout.all()) {
        const ParameterView v = *view;
        const bool norm = v.rows == 1;
        const TensorType type = v.projection ? TensorType::I2_S : (norm ? TensorType::F32 : TensorType::F16);
        std::vector<uint64_t> dims = norm ? std::vector<uint64_t>{static_cast<uint64_t>(v.cols)}
                                          : std::vector<uint64_t>{static_cast<uint64_t>(v.cols), static_cast<uint64_t>(v.rows)};
        writer.add_tensor(v.name, type, dims, [shared, v, type](uint8_t *destination, uint64_t) {
            const float *source = shared->data() + v.offset;
            if (type == TensorType::I2_S) {
                // The values the forward pass used: codes times the absmean scale. The I2_S
                // quantizer's scale max|w| (§2.2) is then exactly that scale.
                std::vector<float> ternary(v.size());
                ternarize(source, v.size(), ternary.data());
                quantize_tensor(type, ternary.data(), static_cast<uint64_t>(v.cols), static_cast<uint64_t>(v.rows), destination);
            } else {
                quantize_tensor(type, source, static_cast<uint64_t>(v.cols), static_cast<uint64_t>(v.rows), destination);
            }
        });
    }
    return writer.write_to_memory();
}

void write_gguf(const std::string &path, const ModelShape &shape, const std::vector<float> &parameters,
                const Tokenizer &tokenizer, const std::string &name) {
    write_file_atomically(path, export_gguf(shape, parameters, tokenizer, name));
}

}  // namespace bitnet::train
