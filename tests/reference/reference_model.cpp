// Loading for the reference: hyperparameters from metadata, every tensor decoded to double.
// The engine's GGUF reader finds the bytes; everything after that is done here.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "gguf/gguf.h"
#include "reference/reference.h"

namespace bitnet_reference {

using bitnet::TensorType;

const char *projection_name(Projection which) {
    static const char *const kNames[kProjectionCount] = {"attn_q", "attn_k",   "attn_v",  "attn_output",
                                                         "ffn_gate", "ffn_up", "ffn_down"};
    return kNames[static_cast<int>(which)];
}

double Weight::effective(int row, int col) const {
    if (!bitlinear) return dense[static_cast<size_t>(row) * cols + col] * output_scale;
    const size_t blocks_per_row = static_cast<size_t>(cols / ternary.block);
    return ternary.codes[static_cast<size_t>(row) * cols + col] *
           ternary.scales[row * blocks_per_row + col / ternary.block] * output_scale;
}

namespace {

[[noreturn]] void fail(const std::string &message) { throw std::runtime_error("reference: " + message); }

bool is_ternary_type(TensorType type) {
    return type == TensorType::I2_S || type == TensorType::TQ1_0 || type == TensorType::TQ2_0;
}

bool is_plain_float_type(TensorType type) {
    return type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16;
}

bool is_bitnet_architecture(const std::string &architecture) {
    return architecture == "bitnet" || architecture == "bitnet-b1.58" || architecture == "bitnet-25";
}

class Loader {
public:
    explicit Loader(const bitnet::gguf::File &file) : file_(file) {}

    int required_int(const char *suffix) const {
        const auto value = file_.get_uint(file_.arch_key(suffix));
        if (!value) fail("missing metadata key " + file_.arch_key(suffix));
        return static_cast<int>(*value);
    }
    int optional_int(const char *suffix, int fallback) const {
        const auto value = file_.get_uint(file_.arch_key(suffix));
        return value ? static_cast<int>(*value) : fallback;
    }
    double optional_float(const char *suffix, double fallback) const {
        const auto value = file_.get_float(file_.arch_key(suffix));
        return value ? *value : fallback;
    }

    // The tensor `name`, checked to have `cols` x `rows` elements (GGUF dims[0] = cols).
    const bitnet::gguf::TensorInfo *tensor(const std::string &name, int cols, int rows, bool required) const {
        const bitnet::gguf::TensorInfo *info = file_.find_tensor(name);
        if (!info) {
            if (required) fail("missing tensor " + name);
            return nullptr;
        }
        if (info->dims[0] != static_cast<uint64_t>(cols) || info->rows() != static_cast<uint64_t>(rows))
            fail("tensor " + name + " has shape [" + std::to_string(info->dims[0]) + ", " +
                 std::to_string(info->rows()) + "], expected [" + std::to_string(cols) + ", " +
                 std::to_string(rows) + "]");
        return info;
    }

    std::vector<double> vector(const std::string &name, int length, bool required) const {
        const bitnet::gguf::TensorInfo *info = tensor(name, length, 1, required);
        return info ? decode_dense(info->type, info->data, 1, length) : std::vector<double>();
    }

    std::vector<double> matrix(const std::string &name, int cols, int rows) const {
        const bitnet::gguf::TensorInfo *info = tensor(name, cols, rows, true);
        return decode_dense(info->type, info->data, rows, cols);
    }

    Weight projection(const std::string &base, int cols, int rows, bool bitnet_graph) const {
        const bitnet::gguf::TensorInfo *info = tensor(base + ".weight", cols, rows, true);
        Weight weight;
        weight.stored_type = bitnet::tensor_type_name(info->type);
        weight.rows = rows;
        weight.cols = cols;
        if (const bitnet::gguf::TensorInfo *scale = tensor(base + ".scale", 1, 1, false))
            weight.output_scale = decode_dense(scale->type, scale->data, 1, 1)[0];
        if (is_ternary_type(info->type)) {
            weight.bitlinear = true;
            weight.ternary = decode_ternary(info->type, info->data, rows, cols);
        } else if (bitnet_graph && is_plain_float_type(info->type)) {
            // Float master weights in a bitnet graph run as BitLinear (ternarized at load). The
            // quantized non-ternary types (Q4_0, Q5_K, ...: what llama.cpp's quantizer writes when a
            // row does not fit TQ1_0/TQ2_0) are matmuls of their stored values, as llama.cpp runs them.
            weight.bitlinear = true;
            weight.ternary = ternarize(decode_dense(info->type, info->data, rows, cols), rows, cols);
        } else {
            weight.dense = decode_dense(info->type, info->data, rows, cols);
        }
        return weight;
    }

private:
    // A float projection in a bitnet graph. Values that are already ternary times one constant
    // (how converters store BitNet weights in F32/F16/BF16) are kept exactly; anything else is
    // ternarized per tensor with absmean, the BitNet b1.58 weight quantizer (formats.md §3.3).
    static TernaryTensor ternarize(const std::vector<double> &values, int rows, int cols) {
        TernaryTensor out{rows, cols, cols, std::vector<int8_t>(values.size()), {}};
        double magnitude = 0.0, magnitude_sum = 0.0;
        bool ternary_valued = true;
        for (double value : values) {
            const double absolute = std::fabs(value);
            magnitude_sum += absolute;
            if (absolute == 0.0) continue;
            if (magnitude == 0.0) magnitude = absolute;
            if (absolute != magnitude) ternary_valued = false;
        }
        double scale = magnitude;
        if (!ternary_valued) scale = std::max(magnitude_sum / static_cast<double>(values.size()), 1e-5);
        for (size_t i = 0; i < values.size(); ++i) {
            const double ratio = scale > 0.0 ? values[i] / scale : 0.0;
            out.codes[i] = static_cast<int8_t>(std::clamp(std::nearbyint(ratio), -1.0, 1.0));
        }
        out.scales.assign(static_cast<size_t>(rows), scale);
        return out;
    }

    const bitnet::gguf::File &file_;
};

}  // namespace

Model Model::load(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot read " + path);
    const std::vector<uint8_t> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return from_image(image.data(), image.size());
}

Model Model::from_image(const uint8_t *image, uint64_t size) {
    const bitnet::gguf::File file = bitnet::gguf::File::parse(image, size);
    const Loader loader(file);
    Model model;
    HyperParameters &hp = model.hparams_;
    hp.architecture = file.architecture();
    const bool bitnet_graph = is_bitnet_architecture(hp.architecture);
    if (!bitnet_graph && hp.architecture != "llama") fail("unsupported architecture '" + hp.architecture + "'");

    hp.n_embd = loader.required_int("embedding_length");
    hp.n_layer = loader.required_int("block_count");
    hp.n_ff = loader.required_int("feed_forward_length");
    hp.n_head = loader.required_int("attention.head_count");
    hp.n_head_kv = loader.optional_int("attention.head_count_kv", hp.n_head);
    if (hp.n_head <= 0 || hp.n_head_kv <= 0 || hp.n_embd % hp.n_head != 0 || hp.n_head % hp.n_head_kv != 0)
        fail("inconsistent head counts");
    hp.head_dim = loader.optional_int("attention.key_length", hp.n_embd / hp.n_head);
    hp.n_rot = loader.optional_int("rope.dimension_count", hp.head_dim);
    if (hp.n_rot % 2 != 0 || hp.n_rot > hp.head_dim) fail("rope.dimension_count must be even and <= head_dim");
    hp.rope_base = loader.optional_float("rope.freq_base", 10000.0);
    const auto eps = file.get_float(file.arch_key("attention.layer_norm_rms_epsilon"));
    if (!eps) fail("missing metadata key " + file.arch_key("attention.layer_norm_rms_epsilon"));
    hp.rms_eps = *eps;

    const bitnet::gguf::TensorInfo *embedding = file.find_tensor("token_embd.weight");
    if (!embedding) fail("missing tensor token_embd.weight");
    hp.n_vocab = loader.optional_int("vocab_size", static_cast<int>(embedding->rows()));

    // The graph's variations (formats.md §2.7, §2.8): Microsoft's archs always have sub-norms and
    // relu^2; llama.cpp's `bitnet` has sub-norms when the file does and takes its activation from
    // metadata (default silu); `llama` is the plain graph with adjacent-pair RoPE.
    if (hp.architecture == "bitnet-b1.58" || hp.architecture == "bitnet-25") {
        hp.sub_norms = true;
        hp.activation = FfnActivation::ReluSquared;
    } else if (hp.architecture == "bitnet") {
        hp.sub_norms = file.find_tensor("blk.0.attn_sub_norm.weight") && file.find_tensor("blk.0.ffn_sub_norm.weight");
        const auto activation = file.get_string(file.arch_key("hidden_activation"));
        if (!activation || *activation == "silu") {
            hp.activation = FfnActivation::Silu;
        } else if (*activation == "relu2") {
            hp.activation = FfnActivation::ReluSquared;
        } else {
            fail("unsupported hidden_activation '" + std::string(*activation) + "'");
        }
    }
    hp.rope_style = hp.architecture == "llama" ? RopeStyle::Adjacent : RopeStyle::Neox;

    const int q_width = hp.n_head * hp.head_dim, kv_width = hp.n_head_kv * hp.head_dim;
    model.token_embedding_ = loader.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    model.output_norm_ = loader.vector("output_norm.weight", hp.n_embd, true);
    model.tied_ = file.find_tensor("output.weight") == nullptr;
    if (!model.tied_) model.lm_head_ = loader.matrix("output.weight", hp.n_embd, hp.n_vocab);

    const int input_widths[kProjectionCount] = {hp.n_embd, hp.n_embd, hp.n_embd, q_width, hp.n_embd, hp.n_embd, hp.n_ff};
    const int output_widths[kProjectionCount] = {q_width, kv_width, kv_width, hp.n_embd, hp.n_ff, hp.n_ff, hp.n_embd};
    for (int index = 0; index < hp.n_layer; ++index) {
        const std::string prefix = "blk." + std::to_string(index) + ".";
        Layer layer;
        layer.attn_norm = loader.vector(prefix + "attn_norm.weight", hp.n_embd, true);
        layer.ffn_norm = loader.vector(prefix + "ffn_norm.weight", hp.n_embd, true);
        if (hp.sub_norms) {
            layer.attn_sub_norm = loader.vector(prefix + "attn_sub_norm.weight", q_width, true);
            layer.ffn_sub_norm = loader.vector(prefix + "ffn_sub_norm.weight", hp.n_ff, true);
        }
        for (int p = 0; p < kProjectionCount; ++p)
            layer.projections[p] = loader.projection(prefix + projection_name(static_cast<Projection>(p)),
                                                     input_widths[p], output_widths[p], bitnet_graph);
        model.layers_.push_back(std::move(layer));
    }
    return model;
}

}  // namespace bitnet_reference
