#include "convert/converter.h"

#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "convert/checkpoint_weights.h"
#include "convert/hf_config.h"
#include "convert/json_file.h"
#include "convert/progress.h"
#include "convert/tensor_plan.h"
#include "convert/vocabulary.h"
#include "gguf/gguf_writer.h"
#include "gguf/model_keys.h"
#include "util/error.h"

namespace bitnet::convert {
namespace {

TensorType choose_outtype(const HfConfig &config, const ConvertOptions &options) {
    const TensorType type = options.outtype.value_or(config.ternary() ? TensorType::I2_S : TensorType::F16);
    const TensorTypeTraits &traits = tensor_type_traits(type);
    const bool float_type = traits.scale_rule == ScaleRule::None;
    if (!float_type && !traits.ternary) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "convert: --outtype %s is not supported (i2_s, tq2_0, tq1_0, bf16, f16, f32)",
             traits.name);
    }
    if (traits.ternary && !config.ternary()) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "convert: --outtype %s needs a BitNet checkpoint; %s (%s) has float weights "
             "that were not trained ternary", traits.name, config.path.c_str(), checkpoint_kind_name(config.kind));
    }
    return type;
}

std::string folder_name(const std::string &folder) {
    std::string trimmed = folder;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const size_t slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

Vocabulary read_vocabulary(const std::string &folder, const HfConfig &config) {
    Vocabulary vocab;
    const std::string spm = folder + "/tokenizer.model";
    const std::string json = folder + "/tokenizer.json";
    if (file_exists(spm)) {
        vocab = read_sentencepiece_model(spm, config.n_vocab);
    } else if (file_exists(json)) {
        vocab = read_tokenizer_json(json, config.n_vocab);
        // Byte-level BPE files carry no special ids: config.json, then generation_config.json.
        JsonFile generation;
        const std::string generation_path = folder + "/generation_config.json";
        const bool has_generation = file_exists(generation_path);
        if (has_generation) generation = read_json_file(generation_path);
        auto pick = [&](std::optional<int64_t> primary, const char *field) -> std::optional<uint32_t> {
            std::optional<int64_t> id = primary;
            if (!id && has_generation) id = read_token_id(generation, field);
            if (!id) return std::nullopt;
            if (*id < 0 || *id >= config.n_vocab) {
                fail(BITNET_ERR_INVALID_MODEL, "%s: %s %lld is outside the vocabulary (vocab_size %lld)",
                     config.path.c_str(), field, static_cast<long long>(*id), static_cast<long long>(config.n_vocab));
            }
            return static_cast<uint32_t>(*id);
        };
        vocab.bos = pick(config.bos_token_id, "bos_token_id");
        vocab.eos = pick(config.eos_token_id, "eos_token_id");
        vocab.padding = pick(config.pad_token_id, "pad_token_id");
        if (!vocab.padding) vocab.padding = vocab.eos;  // as the official 2B-4T file (§2.9 #21)
        vocab.add_bos = true;
    } else {
        fail(BITNET_ERR_INVALID_MODEL, "%s: no tokenizer.json or tokenizer.model", folder.c_str());
    }
    apply_tokenizer_config(folder + "/tokenizer_config.json", vocab);
    return vocab;
}

// Writes `writer` to a temporary file beside `path` and renames it over `path` only on success.
void write_atomically(const gguf::Writer &writer, const std::string &path) {
    const std::string temporary = path + ".partial-" + std::to_string(::getpid());
    try {
        writer.write(temporary);
    } catch (...) {
        std::remove(temporary.c_str());
        throw;
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        std::remove(temporary.c_str());
        fail(BITNET_ERR_IO, "convert: cannot rename the finished file to '%s': %s", path.c_str(), std::strerror(error));
    }
}

// The metadata keys, in the official order (formats.md §2.9) where the official layout is written.
// The vocabulary is taken by value and dies here: the writer keeps its encoded copy only.
void write_metadata(gguf::Writer &writer, const HfConfig &config, Vocabulary vocab, const std::string &arch,
                    const std::string &name, TensorType outtype, bool official) {
    gguf::ModelKeys keys;
    keys.architecture = arch;
    keys.name = name;
    keys.n_vocab = static_cast<uint32_t>(config.n_vocab);
    keys.n_ctx = static_cast<uint32_t>(config.n_ctx);
    keys.n_embd = static_cast<uint32_t>(config.n_embd);
    keys.n_layer = static_cast<uint32_t>(config.n_layer);
    keys.n_ff = static_cast<uint32_t>(config.n_ff);
    keys.n_head = static_cast<uint32_t>(config.n_head);
    keys.n_head_kv = static_cast<uint32_t>(config.n_head_kv);
    keys.rms_eps = static_cast<float>(config.rms_eps);
    keys.rope_freq_base = static_cast<float>(config.rope_theta);
    keys.file_type = gguf::llama_file_type(outtype);
    if (arch == "bitnet") keys.hidden_activation = config.activation;
    gguf::write_model_keys_head(writer, keys);
    gguf::write_add_bos_key(writer, vocab);
    gguf::write_model_keys_tail(writer, keys);
    if (official) vocab.pre.clear();  // the official file has no tokenizer.ggml.pre (§2.9, §4.1)
    gguf::write_vocabulary_keys(writer, vocab);
    writer.set_u32("general.quantization_version", 2);
}

}  // namespace

void convert_checkpoint(const ConvertOptions &options) {
    const std::string &folder = options.input_folder;
    const HfConfig config = read_hf_config(read_json_file(folder + "/config.json"));
    const TensorType outtype = choose_outtype(config, options);
    const TensorTypeTraits &embedding_traits = tensor_type_traits(options.embedding_type);
    if (embedding_traits.ternary) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "convert: --embd-type %s: the embedding cannot be ternary", embedding_traits.name);
    }

    // The official layout (formats.md §2.9) for Microsoft's model in I2_S; llama.cpp's layouts otherwise.
    const bool official = config.kind == CheckpointKind::MicrosoftBitNet && outtype == TensorType::I2_S;
    std::string arch = "llama";
    if (official) arch = "bitnet-b1.58";
    else if (config.kind == CheckpointKind::MicrosoftBitNet || config.kind == CheckpointKind::OneBitLlm) arch = "bitnet";

    gguf::Writer writer;
    write_metadata(writer, config, read_vocabulary(folder, config), arch,
                   options.name.empty() ? folder_name(folder) : options.name, outtype, official);
    // tokenizer.json's parse tree (~100 MB for a Llama 3 vocabulary) is freed by now; hand the heap
    // back so that it does not add to the peak while the largest tensor is staged.
    ::malloc_trim(0);

    if (options.vocab_only) {
        write_atomically(writer, options.output_path);
        return;
    }
    const CheckpointWeights weights = CheckpointWeights::open(folder);
    std::vector<PlannedTensor> planned = plan_tensors(config, weights, outtype, options.embedding_type);
    uint64_t total_bytes = 0;
    for (const PlannedTensor &tensor : planned) {
        uint64_t elements = 1, bytes = 0;
        for (uint64_t dim : tensor.dims) elements *= dim;
        tensor_total_bytes(tensor.type, elements, tensor.dims[0], &bytes);
        total_bytes += bytes;
    }
    auto progress = std::make_shared<Progress>(planned.size(), total_bytes, options.progress);
    for (PlannedTensor &tensor : planned) {
        writer.add_tensor(tensor.name, tensor.type, tensor.dims,
                          [filler = std::move(tensor.filler), progress, name = tensor.name](uint8_t *out, uint64_t n) {
                              filler(out, n);
                              progress->tensor_done(name, n);
                          });
    }
    write_atomically(writer, options.output_path);
    progress->finish();
}

}  // namespace bitnet::convert
