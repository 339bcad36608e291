#include "support/model_builder.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "gguf/gguf_writer.h"
#include "support/random_blocks.h"
#include "support/test_support.h"
#include "tensor/quantize.h"
#include "util/half.h"

namespace bitnet_test {
namespace {

using bitnet::TensorType;

struct PlannedTensor {
    std::string name;
    std::vector<uint64_t> dims;
    enum class Kind { Embedding, Norm, Projection, Extra } kind;
};

bool has_sub_norms(const ModelSpec &spec) { return spec.architecture != "llama"; }

// The model's own tensors in the order the converters write them.
std::vector<PlannedTensor> plan(const ModelSpec &spec) {
    const uint64_t n_embd = spec.n_embd, n_ff = spec.n_ff, n_vocab = spec.n_vocab;
    const uint64_t n_embd_kv = n_embd / spec.n_head * spec.n_head_kv;
    using Kind = PlannedTensor::Kind;
    std::vector<PlannedTensor> tensors = {{"token_embd.weight", {n_embd, n_vocab}, Kind::Embedding},
                                          {"output_norm.weight", {n_embd}, Kind::Norm}};
    if (!spec.tied) tensors.push_back({"output.weight", {n_embd, n_vocab}, Kind::Embedding});
    for (int layer = 0; layer < spec.n_layer; ++layer) {
        const std::string p = "blk." + std::to_string(layer) + ".";
        tensors.push_back({p + "attn_norm.weight", {n_embd}, Kind::Norm});
        tensors.push_back({p + "attn_q.weight", {n_embd, n_embd}, Kind::Projection});
        tensors.push_back({p + "attn_k.weight", {n_embd, n_embd_kv}, Kind::Projection});
        tensors.push_back({p + "attn_v.weight", {n_embd, n_embd_kv}, Kind::Projection});
        tensors.push_back({p + "attn_output.weight", {n_embd, n_embd}, Kind::Projection});
        if (has_sub_norms(spec)) tensors.push_back({p + "attn_sub_norm.weight", {n_embd}, Kind::Norm});
        tensors.push_back({p + "ffn_norm.weight", {n_embd}, Kind::Norm});
        tensors.push_back({p + "ffn_gate.weight", {n_embd, n_ff}, Kind::Projection});
        tensors.push_back({p + "ffn_up.weight", {n_embd, n_ff}, Kind::Projection});
        if (has_sub_norms(spec)) tensors.push_back({p + "ffn_sub_norm.weight", {n_ff}, Kind::Norm});
        tensors.push_back({p + "ffn_down.weight", {n_ff, n_embd}, Kind::Projection});
    }
    for (auto it = tensors.begin(); it != tensors.end();) {
        if (spec.omit_tensors.count(it->name)) {
            it = tensors.erase(it);
            continue;
        }
        if (auto reshaped = spec.reshape.find(it->name); reshaped != spec.reshape.end()) it->dims = reshaped->second;
        ++it;
    }
    return tensors;
}

uint64_t elements(const std::vector<uint64_t> &dims) {
    uint64_t n = 1;
    for (uint64_t d : dims) n *= d;
    return n;
}

std::mt19937_64 tensor_random(uint64_t seed, const std::string &name) {
    uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a
    for (unsigned char c : name) hash = (hash ^ c) * 0x100000001b3ull;
    return std::mt19937_64(hash ^ (seed * 0x9e3779b97f4a7c15ull));
}

float half_exact(double value) { return bitnet::half_to_float(bitnet::float_to_half(static_cast<float>(value))); }

std::vector<float> tensor_values(const ModelSpec &spec, const PlannedTensor &tensor) {
    std::mt19937_64 random = tensor_random(spec.seed, tensor.name);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_int_distribution<int> code(-1, 1);
    const uint64_t cols = tensor.dims.empty() ? 1 : tensor.dims[0];
    std::vector<float> values(elements(tensor.dims));
    switch (tensor.kind) {
        case PlannedTensor::Kind::Norm:
            for (float &v : values) v = half_exact(1.0 + 0.1 * normal(random));
            break;
        case PlannedTensor::Kind::Embedding:
            for (float &v : values) v = half_exact(normal(random));
            break;
        case PlannedTensor::Kind::Projection:
            if (spec.ternary) {
                const float alpha = half_exact((0.75 + 0.5 * std::uniform_real_distribution<double>()(random)) /
                                               std::sqrt(0.66 * static_cast<double>(cols)));
                for (float &v : values) v = static_cast<float>(code(random)) * alpha;
            } else {
                const double scale = 1.0 / std::sqrt(static_cast<double>(cols));
                for (float &v : values) v = static_cast<float>(scale * normal(random));
            }
            break;
        case PlannedTensor::Kind::Extra: break;
    }
    return values;
}

bitnet::gguf::Writer::TensorFiller filler(TensorType type, std::vector<float> values, uint64_t cols) {
    auto shared = std::make_shared<std::vector<float>>(std::move(values));
    return [type, shared, cols](uint8_t *destination, uint64_t) {
        bitnet::quantize_tensor(type, shared->data(), cols, shared->size() / cols, destination);
    };
}

}  // namespace

std::vector<uint8_t> build_model(const ModelSpec &spec) {
    bitnet::gguf::Writer writer(spec.alignment);
    const std::string a = spec.architecture + ".";
    auto u32 = [&](const std::string &key, uint32_t value) {
        if (!spec.omit_keys.count(key)) writer.set_u32(key, value);
    };
    auto f32 = [&](const std::string &key, float value) {
        if (!spec.omit_keys.count(key)) writer.set_f32(key, value);
    };
    auto str = [&](const std::string &key, const std::string &value) {
        if (!spec.omit_keys.count(key)) writer.set_string(key, value);
    };
    str("general.architecture", spec.architecture);
    if (!spec.name.empty()) str("general.name", spec.name);
    if (spec.vocab_size_key) u32(a + "vocab_size", static_cast<uint32_t>(spec.n_vocab));
    u32(a + "context_length", static_cast<uint32_t>(spec.n_ctx));
    u32(a + "embedding_length", static_cast<uint32_t>(spec.n_embd));
    u32(a + "block_count", static_cast<uint32_t>(spec.n_layer));
    u32(a + "feed_forward_length", static_cast<uint32_t>(spec.n_ff));
    u32(a + "attention.head_count", static_cast<uint32_t>(spec.n_head));
    u32(a + "attention.head_count_kv", static_cast<uint32_t>(spec.n_head_kv));
    f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
    f32(a + "rope.freq_base", 10000.0f);
    if (!spec.activation.empty()) str(a + "hidden_activation", spec.activation);
    for (const auto &[key, value] : spec.string_keys) writer.set_string(key, value);

    for (const PlannedTensor &tensor : plan(spec)) {
        TensorType type = tensor.kind == PlannedTensor::Kind::Norm         ? TensorType::F32
                          : tensor.kind == PlannedTensor::Kind::Embedding  ? spec.embedding_type
                                                                           : spec.projection_type;
        if (auto retyped = spec.retype.find(tensor.name); retyped != spec.retype.end()) type = retyped->second;
        if (!bitnet::tensor_type_traits(type).encode_block) {
            // A decode-only type: random valid blocks (support/random_blocks.h), not these values.
            std::mt19937_64 random = tensor_random(spec.seed, tensor.name);
            const uint64_t blocks = elements(tensor.dims) / bitnet::tensor_type_traits(type).block_elements;
            auto bytes = std::make_shared<std::vector<uint8_t>>(random_blocks(type, blocks, random));
            writer.add_tensor(tensor.name, type, tensor.dims,
                              [bytes](uint8_t *destination, uint64_t) { std::copy(bytes->begin(), bytes->end(), destination); });
            continue;
        }
        writer.add_tensor(tensor.name, type, tensor.dims, filler(type, tensor_values(spec, tensor), tensor.dims[0]));
    }
    for (const ExtraTensor &extra : spec.extra_tensors) {
        writer.add_tensor(extra.name, extra.type, extra.dims, filler(extra.type, extra.values, extra.dims[0]));
    }
    return writer.write_to_memory();
}

uint64_t spec_n_params(const ModelSpec &spec) {
    uint64_t n = 0;
    for (const PlannedTensor &tensor : plan(spec)) n += elements(tensor.dims);
    for (const ExtraTensor &extra : spec.extra_tensors) n += elements(extra.dims);
    return n;
}

std::string write_temp(const std::string &name, const std::vector<uint8_t> &bytes) {
    std::string path = temp_dir() + "/" + name;
    write_file(path, bytes);
    return path;
}

}  // namespace bitnet_test
