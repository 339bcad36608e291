#include "convert/tensor_plan.h"

#include <cstring>
#include <memory>
#include <set>

#include "convert/weight_source.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace bitnet::convert {
namespace {

// Rows converted at once: bounded so the float staging buffer stays a few MiB whatever the tensor.
constexpr uint64_t kStagingFloats = uint64_t(1) << 20;

uint64_t rows_per_chunk(uint64_t cols) { return std::max<uint64_t>(1, kStagingFloats / cols); }

// A 1-D or 2-D float tensor copied row by row into `type` (norms: F32; embeddings: any float or
// Q type).
gguf::Writer::TensorFiller float_filler(const SafeTensor *tensor, TensorType type, uint64_t cols, uint64_t rows) {
    return [tensor, type, cols, rows](uint8_t *destination, uint64_t) {
        const uint64_t chunk = rows_per_chunk(cols);
        std::vector<float> staging(chunk * cols);
        const uint64_t row_bytes = tensor_row_bytes(type, cols);
        for (uint64_t row = 0; row < rows; row += chunk) {
            const uint64_t n = std::min(chunk, rows - row);
            read_floats(*tensor, row * cols, n * cols, staging.data());
            quantize_tensor(type, staging.data(), cols, n, destination + row * row_bytes);
        }
    };
}

// A projection. I2_S gets the codes row by row and the per-tensor scale in its tail (§2.2, §2.3);
// every other type gets the effective weights (code * scale for ternary sources).
gguf::Writer::TensorFiller projection_filler(std::shared_ptr<ProjectionSource> source, TensorType type) {
    return [source, type](uint8_t *destination, uint64_t) {
        const uint64_t cols = source->cols(), rows = source->rows();
        const uint64_t chunk = rows_per_chunk(cols);
        std::vector<float> staging(chunk * cols);
        const uint64_t row_bytes = tensor_row_bytes(type, cols);
        for (uint64_t row = 0; row < rows; row += chunk) {
            const uint64_t n = std::min(chunk, rows - row);
            source->read_rows(row, n, staging.data());
            uint8_t *out = destination + row * row_bytes;
            if (type == TensorType::I2_S) {
                for (uint64_t r = 0; r < n; ++r) quantize_row(type, staging.data() + r * cols, cols, out + r * row_bytes);
                continue;
            }
            if (source->ternary()) {
                for (float &value : staging) value *= source->scale();
            }
            quantize_tensor(type, staging.data(), cols, n, out);
        }
        if (type == TensorType::I2_S) {
            const float scale = source->ternary() ? source->scale() : 1.0f;
            std::memcpy(destination + rows * row_bytes, &scale, sizeof scale);  // first 4 tail bytes, LE host
        }
    };
}

// llama.cpp's permutation for `llama` files (adjacent-pair RoPE, formats.md §3.6): within each head, output row
// 2b + a takes HF row a * head_dim/2 + b (HF keeps the two rotated halves apart, rotate_half).
std::vector<uint32_t> rope_permutation(uint64_t n_heads, uint64_t head_dim) {
    std::vector<uint32_t> order(n_heads * head_dim);
    for (uint64_t head = 0; head < n_heads; ++head) {
        for (uint64_t r = 0; r < head_dim; ++r) {
            const uint64_t pair = r / 2, half = r % 2;
            order[head * head_dim + r] = static_cast<uint32_t>(head * head_dim + half * (head_dim / 2) + pair);
        }
    }
    return order;
}

struct ProjectionName {
    const char *gguf;
    const char *hf;  // under model.layers.N.
};
constexpr ProjectionName kProjections[] = {
    {"attn_q", "self_attn.q_proj"},   {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"}, {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
};

class Planner {
public:
    Planner(const HfConfig &config, const CheckpointWeights &weights, TensorType outtype, TensorType embedding_type)
        : config_(config), weights_(weights), outtype_(outtype), embedding_type_(embedding_type) {}

    std::vector<PlannedTensor> plan() {
        const uint64_t n_embd = config_.n_embd, n_vocab = config_.n_vocab;
        add_float("token_embd.weight", "model.embed_tokens.weight", embedding_type_, n_embd, n_vocab);
        add_float("output_norm.weight", "model.norm.weight", TensorType::F32, n_embd, 0);
        if (!config_.tied_embeddings) {
            add_float("output.weight", "lm_head.weight", embedding_type_, n_embd, n_vocab);
        }
        for (int64_t layer = 0; layer < config_.n_layer; ++layer) add_layer(layer);
        refuse_unused_tensors();
        return std::move(planned_);
    }

private:
    const SafeTensor &use(const std::string &hf_name) {
        used_.insert(hf_name);
        return weights_.require(hf_name);
    }

    // A tensor this converter does not place (a bias, an unknown module) would be silently lost, and
    // the model would compute something else: refuse. Only buffers that carry no weights, and the
    // lm_head a tied model ignores, may be left.
    void refuse_unused_tensors() const {
        for (const std::string &name : weights_.names()) {
            if (used_.count(name)) continue;
            if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;
            if (name == "lm_head.weight" && config_.tied_embeddings) continue;
            fail(BITNET_ERR_UNSUPPORTED, "%s: tensor '%s' has no place in a %s model (a bias or a module this "
                 "converter does not know); refusing to drop it", weights_.source().c_str(), name.c_str(),
                 checkpoint_kind_name(config_.kind));
        }
    }

    void add_float(const std::string &name, const std::string &hf_name, TensorType type, uint64_t cols, uint64_t rows) {
        const SafeTensor &tensor = use(hf_name);
        expect_float_tensor(tensor, rows ? std::vector<uint64_t>{rows, cols} : std::vector<uint64_t>{cols});
        check_row(name, type, cols);
        std::vector<uint64_t> dims = rows ? std::vector<uint64_t>{cols, rows} : std::vector<uint64_t>{cols};
        planned_.push_back({name, type, dims, float_filler(&tensor, type, cols, rows ? rows : 1)});
    }

    void add_projection(int64_t layer, const ProjectionName &names, uint64_t cols, uint64_t rows) {
        const std::string hf = "model.layers." + std::to_string(layer) + "." + names.hf;
        const std::string name = "blk." + std::to_string(layer) + "." + names.gguf + ".weight";
        const SafeTensor &tensor = use(hf + ".weight");
        ProjectionSource source;
        if (tensor.dtype == Dtype::U8) {
            if (!config_.ternary()) {
                fail(BITNET_ERR_INVALID_MODEL, "%s: tensor '%s' is packed U8 but config.json has no BitNet "
                     "quantization_config", tensor.path.c_str(), tensor.name.c_str());
            }
            source = ProjectionSource::packed(tensor, use(hf + ".weight_scale"), rows, cols,
                                              config_.weight_scale_divides);
        } else if (config_.ternary()) {
            source = ProjectionSource::absmean(tensor, rows, cols);
        } else {
            source = ProjectionSource::dense(tensor, rows, cols);
        }
        const bool llama_layout = config_.kind == CheckpointKind::TernaryLlama || config_.kind == CheckpointKind::FloatLlama;
        const uint64_t head_dim = config_.n_embd / config_.n_head;
        if (llama_layout && std::strcmp(names.gguf, "attn_q") == 0) source.set_row_order(rope_permutation(config_.n_head, head_dim));
        if (llama_layout && std::strcmp(names.gguf, "attn_k") == 0) source.set_row_order(rope_permutation(config_.n_head_kv, head_dim));
        check_row(name, outtype_, cols);
        planned_.push_back({name, outtype_, {cols, rows}, projection_filler(std::make_shared<ProjectionSource>(std::move(source)), outtype_)});
    }

    void add_layer(int64_t layer) {
        const std::string hf = "model.layers." + std::to_string(layer) + ".";
        const std::string p = "blk." + std::to_string(layer) + ".";
        const uint64_t n_embd = config_.n_embd, n_ff = config_.n_ff;
        const uint64_t n_embd_kv = n_embd / config_.n_head * config_.n_head_kv;
        const bool one_bit_llm = config_.kind == CheckpointKind::OneBitLlm;
        // The same order as tools/synth (and so the engine's tests): norms beside their projections.
        add_float(p + "attn_norm.weight", hf + "input_layernorm.weight", TensorType::F32, n_embd, 0);
        add_projection(layer, kProjections[0], n_embd, n_embd);
        add_projection(layer, kProjections[1], n_embd, n_embd_kv);
        add_projection(layer, kProjections[2], n_embd, n_embd_kv);
        add_projection(layer, kProjections[3], n_embd, n_embd);
        if (config_.sub_norms()) {
            add_float(p + "attn_sub_norm.weight", hf + (one_bit_llm ? "self_attn.inner_attn_ln.weight" : "self_attn.attn_sub_norm.weight"),
                      TensorType::F32, n_embd, 0);
        }
        add_float(p + "ffn_norm.weight", hf + "post_attention_layernorm.weight", TensorType::F32, n_embd, 0);
        add_projection(layer, kProjections[4], n_embd, n_ff);
        add_projection(layer, kProjections[5], n_embd, n_ff);
        if (config_.sub_norms()) {
            add_float(p + "ffn_sub_norm.weight", hf + (one_bit_llm ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight"),
                      TensorType::F32, n_ff, 0);
        }
        add_projection(layer, kProjections[6], n_ff, n_embd);
    }

    static void check_row(const std::string &name, TensorType type, uint64_t cols) {
        const uint32_t block = tensor_type_traits(type).block_elements;
        if (cols % block != 0) {
            fail(BITNET_ERR_UNSUPPORTED, "convert: %s cannot store '%s': its rows of %llu are not a multiple of the %s "
                 "block size %u (choose another --outtype / --embd-type)", tensor_type_name(type), name.c_str(),
                 static_cast<unsigned long long>(cols), tensor_type_name(type), block);
        }
    }

    const HfConfig &config_;
    const CheckpointWeights &weights_;
    TensorType outtype_, embedding_type_;
    std::vector<PlannedTensor> planned_;
    std::set<std::string> used_;
};

}  // namespace

std::vector<PlannedTensor> plan_tensors(const HfConfig &config, const CheckpointWeights &weights, TensorType outtype,
                                        TensorType embedding_type) {
    return Planner(config, weights, outtype, embedding_type).plan();
}

}  // namespace bitnet::convert
