// bitnet quantize (see quantize.h): plan every output tensor from the input's table, then stream
// them through the GGUF writer into a temporary file that is renamed over the output at the end.
#include "quantize/quantize.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "tensor/quantize.h"
#include "util/error.h"
#include "util/file_path.h"
#include "util/mapped_file.h"

namespace bitnet {
namespace {

bool is_bitnet_official(const std::string &arch) { return arch == "bitnet-b1.58" || arch == "bitnet-25"; }

// The layout the target type belongs in (formats.md §2.7, §2.9): I2_S files are Microsoft's
// `bitnet-b1.58`; TQ and float BitNet files are llama.cpp's `bitnet`; `llama` stays `llama`.
std::string target_architecture(const std::string &source, TensorType projections) {
    if (source == "llama") return source;
    if (!is_bitnet_official(source) && source != "bitnet") {
        fail(BITNET_ERR_UNSUPPORTED, "quantize: architecture '%s' is not supported (bitnet-b1.58, bitnet-25, bitnet, llama)",
             source.c_str());
    }
    if (projections == TensorType::I2_S) return is_bitnet_official(source) ? source : "bitnet-b1.58";
    return "bitnet";
}

// The FFN activation a reader assumes without `<arch>.hidden_activation` (model.cpp read_activation).
const char *default_activation(const std::string &arch) { return is_bitnet_official(arch) ? "relu2" : "silu"; }

// general.file_type (llama_ftype) of a file whose projections are `type`: TQ1_0 36, TQ2_0 37 and
// I2_S 40 (formats.md §1.5, §2.9); F32 0, F16 1, BF16 32 from llama.h's enum (as recalled).
uint32_t file_type_of(TensorType type) {
    switch (type) {
        case TensorType::F32: return 0;
        case TensorType::F16: return 1;
        case TensorType::BF16: return 32;
        case TensorType::TQ1_0: return 36;
        case TensorType::TQ2_0: return 37;
        default: return 40;  // I2_S
    }
}

constexpr const char *kProjections[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

// "blk.N.<projection>" when `name` is "blk.N.<projection>.<suffix>", else "".
std::string projection_base(const std::string &name, const char *suffix) {
    if (name.rfind("blk.", 0) != 0) return "";
    const std::string tail = std::string(".") + suffix;
    if (name.size() <= tail.size() || name.compare(name.size() - tail.size(), tail.size(), tail) != 0) return "";
    const std::string base = name.substr(0, name.size() - tail.size());
    const size_t dot = base.find('.', 4);
    if (dot == std::string::npos) return "";
    const std::string which = base.substr(dot + 1);
    for (const char *p : kProjections) {
        if (which == p) return base;
    }
    return "";
}

std::vector<float> decode_tensor(const gguf::TensorInfo &tensor) {
    std::vector<float> values(tensor.n_elements);
    dequantize_rows(tensor.type, tensor.data, tensor.dims[0], tensor.rows(), 0, tensor.rows(), values.data());
    return values;
}

// BitNet's absmean ternarization (formats.md §3.3), as the engine applies it to float projections at
// load: values already ternary times one constant keep it.
void ternarize(std::vector<float> &values) {
    float magnitude = 0.0f;
    bool ternary = true;
    for (float v : values) {
        const float a = std::fabs(v);
        if (a == 0.0f) continue;
        if (magnitude == 0.0f) magnitude = a;
        if (a != magnitude) ternary = false;
    }
    if (ternary) return;
    double sum = 0.0;
    for (float v : values) sum += std::fabs(v);
    const double scale = std::max(sum / static_cast<double>(values.size()), 1e-5);
    for (float &v : values) v = static_cast<float>(std::clamp(std::nearbyint(v / scale), -1.0, 1.0) * scale);
}

// One tensor of the output: its type and how its bytes are made.
struct Planned {
    const gguf::TensorInfo *source = nullptr;
    TensorType type = TensorType::F32;
    bool copy = true;         // the source bytes as they are
    bool ternarize = false;   // float source, ternary target
    float fold_scale = 1.0f;  // a `.scale` tensor folded into the values (official I2_S layout)
};

class Quantizer {
public:
    Quantizer(const gguf::File &file, const QuantizeOptions &options, QuantizeResult &result)
        : file_(file), options_(options), result_(result) {}

    void add_metadata(gguf::Writer &writer) {
        const std::string source = file_.architecture();
        const std::string target = result_.architecture;
        const std::string old_prefix = source + ".", new_prefix = target + ".";
        // The FFN activation the source computes, which the output must keep whatever its layout's
        // default. The official layout has no such key (formats.md §2.9): it is dropped there when
        // it says ReLU², the official default, so an I2_S -> TQ -> I2_S round trip gives the same keys.
        const std::string activation_key = old_prefix + "hidden_activation";
        std::optional<std::string_view> stored = file_.get_string(activation_key);
        const std::string activation = stored ? std::string(*stored) : default_activation(source);
        const bool relu2 = activation == "relu2" || activation == "relu_sqr" || activation == "relu_squared";
        const bool drop_activation = target != source && is_bitnet_official(target) && relu2;
        for (const gguf::MetadataEntry &entry : file_.metadata()) {
            if (entry.key == "general.alignment") continue;  // the writer's alignment argument
            if (entry.key == activation_key && drop_activation) continue;
            std::string key = entry.key;
            if (key.rfind(old_prefix, 0) == 0) key = new_prefix + key.substr(old_prefix.size());
            if (key == "general.architecture") {
                writer.set_string(key, target);
            } else {
                writer.copy_value(key, file_, entry.value);
            }
        }
        if (target != source && !stored && std::strcmp(default_activation(source), default_activation(target)) != 0) {
            writer.set_string(new_prefix + "hidden_activation", default_activation(source));
        }
        // Updated only where the source has one (synthetic files may not).
        if (file_.find("general.file_type")) writer.set_u32("general.file_type", file_type_of(options_.projection_type));
    }

    std::vector<Planned> plan() {
        std::vector<Planned> planned;
        const bool fold_scales = options_.projection_type == TensorType::I2_S && result_.architecture != "llama";
        for (const gguf::TensorInfo &tensor : file_.tensors()) {
            Planned p;
            p.source = &tensor;
            p.type = tensor.type;
            if (fold_scales && !projection_base(tensor.name, "scale").empty()) continue;  // folded below
            if (std::string base = projection_base(tensor.name, "weight"); !base.empty()) {
                plan_projection(p, base, fold_scales);
            } else if (tensor.name == "token_embd.weight" && options_.embedding_type) {
                retype(p, *options_.embedding_type);
            } else if (tensor.name == "output.weight" && options_.head_type) {
                retype(p, *options_.head_type);
            }
            planned.push_back(p);
        }
        if (options_.head_type && !file_.find_tensor("output.weight")) {
            fail(BITNET_ERR_INVALID_ARGUMENT,
                 "quantize: --head-type: the model has no output.weight (its lm_head is the embedding; use --embd-type)");
        }
        return planned;
    }

    // Bytes of one planned tensor, written into `out` (`n_bytes` of them); runs during the write.
    void fill(const Planned &p, uint8_t *out, uint64_t n_bytes) {
        const gguf::TensorInfo &tensor = *p.source;
        if (p.copy) {
            std::memcpy(out, tensor.data, n_bytes);
            return;
        }
        std::vector<float> values = decode_tensor(tensor);
        if (p.fold_scale != 1.0f) {
            for (float &v : values) v *= p.fold_scale;
        }
        if (p.ternarize) ternarize(values);
        quantize_tensor(p.type, values.data(), tensor.dims[0], tensor.rows(), out);
        report_changes(tensor, p.type, values, out);
    }

private:
    void retype(Planned &p, TensorType target) {
        require_block(*p.source, target);
        p.type = target;
        p.copy = target == p.source->type;
    }

    void require_block(const gguf::TensorInfo &tensor, TensorType target) const {
        const uint32_t block = tensor_type_traits(target).block_elements;
        if (tensor.dims[0] % block != 0) {
            fail(BITNET_ERR_INVALID_ARGUMENT,
                 "quantize: tensor '%s' has rows of %llu values, not a multiple of the %s block of %u; choose another type",
                 tensor.name.c_str(), static_cast<unsigned long long>(tensor.dims[0]), tensor_type_name(target), block);
        }
    }

    void plan_projection(Planned &p, const std::string &base, bool fold_scales) {
        const TensorTypeTraits &source = tensor_type_traits(p.source->type);
        const TensorType target = options_.projection_type;
        if (!source.ternary && source.scale_rule != ScaleRule::None) {
            // Q4_0, Q5_K, ...: what a quantizer wrote where a row did not fit; re-encoding would change
            // its values, so it stays (the engine runs it as a float projection).
            result_.notes.push_back("kept '" + p.source->name + "' as " + source.name +
                                    " (a non-ternary quantized projection; re-encoding would change it)");
            if (fold_scales && file_.find_tensor(base + ".scale")) {
                fail(BITNET_ERR_UNSUPPORTED, "quantize: '%s' is %s with a '%s.scale' tensor, which the I2_S layout "
                     "cannot keep", p.source->name.c_str(), source.name, base.c_str());
            }
            return;
        }
        require_block(*p.source, target);
        p.type = target;
        p.ternarize = !source.ternary && tensor_type_traits(target).ternary;
        if (fold_scales) {
            if (const gguf::TensorInfo *scale = file_.find_tensor(base + ".scale")) {
                if (scale->n_elements != 1 || scale->type != TensorType::F32) {
                    fail(BITNET_ERR_INVALID_MODEL, "quantize: '%s' must be a single f32 value", scale->name.c_str());
                }
                std::memcpy(&p.fold_scale, scale->data, sizeof p.fold_scale);
            }
        }
        p.copy = target == p.source->type && p.fold_scale == 1.0f;
    }

    // Decode what was written and compare with the values it was meant to hold.
    void report_changes(const gguf::TensorInfo &tensor, TensorType type, const std::vector<float> &wanted,
                        const uint8_t *written) {
        std::vector<float> got(wanted.size());
        dequantize_rows(type, written, tensor.dims[0], tensor.rows(), 0, tensor.rows(), got.data());
        uint64_t changed = 0;
        double worst = 0.0;
        for (size_t i = 0; i < got.size(); ++i) {
            if (got[i] == wanted[i]) continue;
            ++changed;
            const double denominator = std::max(std::fabs(static_cast<double>(wanted[i])), 1e-30);
            worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - wanted[i]) / denominator);
        }
        if (changed == 0) return;
        char line[512];
        std::snprintf(line, sizeof line,
                      "'%s' as %s is not lossless: %llu of %llu values changed, by up to %.3g relative%s",
                      tensor.name.c_str(), tensor_type_name(type), static_cast<unsigned long long>(changed),
                      static_cast<unsigned long long>(got.size()), worst,
                      tensor_type_traits(type).ternary ? " (its scales are not representable in the target's scale format)"
                                                       : "");
        result_.notes.push_back(line);
    }

    const gguf::File &file_;
    const QuantizeOptions &options_;
    QuantizeResult &result_;
};

bool same_file(const std::string &a, const std::string &b) {
    if (a == b) return true;
    struct stat sa, sb;
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

bool is_projection_target(TensorType type) {
    return type == TensorType::I2_S || type == TensorType::TQ2_0 || type == TensorType::TQ1_0 ||
           tensor_type_traits(type).scale_rule == ScaleRule::None;
}

bool is_embedding_target(TensorType type) {
    return tensor_type_traits(type).scale_rule == ScaleRule::None || type == TensorType::Q8_0 ||
           type == TensorType::Q6_K || type == TensorType::Q4_0;
}

QuantizeResult quantize_model(const std::string &input_path, const std::string &output_path,
                              const QuantizeOptions &options) {
    if (!is_projection_target(options.projection_type)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "quantize: %s is not a projection type (i2_s, tq2_0, tq1_0, f32, f16, bf16)",
             tensor_type_name(options.projection_type));
    }
    for (const std::optional<TensorType> &t : {options.embedding_type, options.head_type}) {
        if (t && !is_embedding_target(*t)) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "quantize: %s is not an embedding/output type (f32, f16, bf16, q8_0, q6_k, q4_0)",
                 tensor_type_name(*t));
        }
    }
    if (same_file(input_path, output_path)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "quantize: the output '%s' is the input file; write to another path",
             output_path.c_str());
    }
    const MappedFile mapping = MappedFile::open(input_path);
    const gguf::File file = gguf::File::parse(mapping.data(), mapping.size());

    QuantizeResult result;
    result.architecture = target_architecture(file.architecture(), options.projection_type);
    Quantizer quantizer(file, options, result);
    gguf::Writer writer(file.alignment());
    quantizer.add_metadata(writer);
    const std::vector<Planned> planned = quantizer.plan();
    for (const Planned &p : planned) {
        std::vector<uint64_t> dims(p.source->dims, p.source->dims + p.source->n_dims);
        writer.add_tensor(p.source->name, p.type, dims,
                          [&quantizer, &p](uint8_t *out, uint64_t n_bytes) { quantizer.fill(p, out, n_bytes); });
    }

    // Atomic output: a temporary name in the output's folder, renamed when complete. The writer
    // removes its file when it fails; a failed rename removes it here.
    const std::string temporary = output_path + ".tmp-" + std::to_string(::getpid());
    writer.write(temporary);
    if (!replace_file(temporary, output_path)) {  // rename() would refuse an existing output on Windows
        const int error = errno;
        remove_file(temporary);
        fail(BITNET_ERR_IO, "quantize: cannot rename '%s' to '%s': %s", temporary.c_str(), output_path.c_str(),
             std::strerror(error));
    }
    return result;
}

}  // namespace bitnet
