#include "support/hf_checkpoint.h"

#include <sys/stat.h>

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>

#include "gguf/gguf_writer.h"
#include "tensor/quantize.h"
#include "support/test_support.h"

namespace bitnet_test {
namespace {

// ---------------------------------------------------------------------------------------------
// JSON text, written by hand so the tests do not share the converter's JSON library path.

std::string json_string(const std::string &text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
            out += buffer;
        } else out += static_cast<char>(c);
    }
    return out + "\"";
}

std::string json_shape(const std::vector<uint64_t> &shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
    return out + "]";
}

void write_text(const std::string &path, const std::string &text) { write_file(path, std::vector<uint8_t>(text.begin(), text.end())); }

void append_le(std::vector<uint8_t> &out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

std::vector<uint8_t> bf16_bytes(const std::vector<float> &values) {
    std::vector<uint8_t> out;
    for (float value : values) append_le(out, to_bf16_bits(value), 2);
    return out;
}

std::vector<uint8_t> f32_bytes(const std::vector<float> &values) {
    std::vector<uint8_t> out(values.size() * 4);
    std::memcpy(out.data(), values.data(), out.size());
    return out;
}

// ---------------------------------------------------------------------------------------------
// Byte-level BPE alphabet (GPT-2 bytes_to_unicode, formats.md §4.4).

std::string utf8(uint32_t cp) {
    std::string out;
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return out;
}

std::vector<std::string> byte_alphabet() {
    std::vector<std::string> out(256);
    uint32_t next = 0x100;
    for (uint32_t byte = 0; byte < 256; ++byte) {
        const bool printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
        out[byte] = utf8(printable ? byte : next++);
    }
    return out;
}

constexpr const char *kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// A tokenizer.json with 256 byte tokens, three specials and no merges.
std::string tiny_tokenizer_json() {
    const std::vector<std::string> alphabet = byte_alphabet();
    std::string vocab;
    for (int i = 0; i < 256; ++i) vocab += (i ? "," : "") + json_string(alphabet[i]) + ":" + std::to_string(i);
    const char *specials[] = {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"};
    std::string added;
    for (int i = 0; i < 3; ++i) {
        added += std::string(i ? "," : "") + "{\"id\":" + std::to_string(256 + i) + ",\"content\":" +
                 json_string(specials[i]) + ",\"special\":true}";
    }
    return "{\"version\":\"1.0\",\"added_tokens\":[" + added +
           "],\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":" +
           json_string(kLlama3Split) + "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","
           "\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}]},"
           "\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":[]}}";
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/).

void put_varint(std::vector<uint8_t> &out, uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<uint8_t>(value | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<uint8_t>(value));
}
void put_tag(std::vector<uint8_t> &out, int field, int wire_type) { put_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type); }
void put_bytes(std::vector<uint8_t> &out, int field, const std::vector<uint8_t> &bytes) {
    put_tag(out, field, 2);
    put_varint(out, bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
}

// ---------------------------------------------------------------------------------------------
// Weights

struct Generator {
    std::mt19937 random;
    std::normal_distribution<float> normal{0.0f, 1.0f};

    std::vector<float> floats(size_t n, float sigma, float floor = 0.0f) {
        std::vector<float> out(n);
        for (float &value : out) {
            value = sigma * normal(random);
            if (std::fabs(value) < floor) value = value < 0 ? -floor : floor;
            value = bf16_round(value);
        }
        return out;
    }
    std::vector<float> codes(size_t n) {
        std::uniform_int_distribution<int> pick(0, 9);
        std::vector<float> out(n);
        for (float &value : out) {
            const int r = pick(random);
            value = r < 3 ? -1.0f : (r < 7 ? 0.0f : 1.0f);
        }
        return out;
    }
};

// Latent weights whose absmean ternarization has no ties to break: every |W| / mean|W| is kept at
// least 0.02 away from 0.5 and 1.5, so round-half-even in float (the converter, as torch) and in
// double (the reference) cannot disagree.
std::vector<float> latent_weights(Generator &generator, size_t n, float sigma) {
    std::vector<float> values = generator.floats(n, sigma);
    for (int pass = 0; pass < 8; ++pass) {
        double sum = 0.0;
        for (float v : values) sum += std::fabs(v);
        const double mean = sum / static_cast<double>(n);
        bool changed = false;
        for (float &value : values) {
            const double ratio = std::fabs(value) / mean;
            for (double edge : {0.5, 1.5}) {
                if (std::fabs(ratio - edge) < 0.02) {
                    value = bf16_round(static_cast<float>((value < 0 ? -1 : 1) * (edge + 0.05) * mean));
                    changed = true;
                }
            }
        }
        if (!changed) return values;
    }
    throw std::runtime_error("latent_weights: could not avoid rounding ties");
}

// HF pack_weights (formats.md §3.4): packed row r, bits 2q+1:2q hold output row r + q * rows/4,
// stored as code + 1.
std::vector<uint8_t> pack_codes(const std::vector<float> &codes, uint64_t rows, uint64_t cols) {
    const uint64_t quarter = rows / 4;
    std::vector<uint8_t> packed(quarter * cols, 0);
    for (uint64_t row = 0; row < rows; ++row) {
        for (uint64_t col = 0; col < cols; ++col) {
            const int stored = static_cast<int>(codes[row * cols + col]) + 1;
            packed[(row % quarter) * cols + col] |= static_cast<uint8_t>(stored << (2 * (row / quarter)));
        }
    }
    return packed;
}

// llama.cpp's q/k permutation for the `llama` graph (adjacent RoPE pairs): output row h*hd + 2b + a
// is HF row h*hd + a*hd/2 + b. Written here independently of the converter.
std::vector<float> permute_rows(const std::vector<float> &values, int n_heads, int head_dim, int cols) {
    std::vector<float> out(values.size());
    for (int head = 0; head < n_heads; ++head) {
        for (int b = 0; b < head_dim / 2; ++b) {
            for (int a = 0; a < 2; ++a) {
                const int to = head * head_dim + 2 * b + a, from = head * head_dim + a * head_dim / 2 + b;
                std::memcpy(&out[static_cast<size_t>(to) * cols], &values[static_cast<size_t>(from) * cols], cols * sizeof(float));
            }
        }
    }
    return out;
}

bool is_packed(HfKind kind) { return kind == HfKind::MicrosoftPacked || kind == HfKind::TernaryLlama; }
bool is_llama(HfKind kind) { return kind == HfKind::TernaryLlama || kind == HfKind::FloatLlama; }
bool has_sub_norms(HfKind kind) { return kind == HfKind::MicrosoftPacked || kind == HfKind::MicrosoftMaster || kind == HfKind::OneBitLlm; }

std::string config_json(const HfCheckpointOptions &options) {
    const HfShape &s = options.shape;
    std::string arch = "LlamaForCausalLM", act = "silu", quant;
    if (options.kind == HfKind::MicrosoftPacked || options.kind == HfKind::MicrosoftMaster) {
        arch = "BitNetForCausalLM";
        act = "relu2";
    }
    if (options.kind == HfKind::OneBitLlm) arch = "BitnetForCausalLM";
    if (options.kind == HfKind::MicrosoftPacked || options.kind == HfKind::TernaryLlama) {
        quant = options.linear_class.empty()
                    ? std::string(",\"quantization_config\":{\"modules_to_not_convert\":null,\"quant_method\":\"bitnet\"}")
                    : ",\"quantization_config\":{\"quant_method\":\"bitnet\",\"linear_class\":" +
                          json_string(options.linear_class) + ",\"quantization_mode\":\"offline\"}";
    }
    if (options.kind == HfKind::MicrosoftMaster) {
        quant = ",\"quantization_config\":{\"quant_method\":\"bitnet\",\"linear_class\":\"autobitlinear\","
                "\"quantization_mode\":\"online\"}";
    }
    char numbers[512];
    std::snprintf(numbers, sizeof numbers,
                  "\"vocab_size\":%d,\"hidden_size\":%d,\"num_hidden_layers\":%d,\"num_attention_heads\":%d,"
                  "\"num_key_value_heads\":%d,\"intermediate_size\":%d,\"max_position_embeddings\":512,"
                  "\"rope_theta\":%.1f,\"rms_norm_eps\":%g",
                  s.n_vocab, s.n_embd, s.n_layer, s.n_head, s.n_head_kv, s.n_ff, s.rope_theta, s.rms_eps);
    const bool spm = options.kind == HfKind::OneBitLlm;
    return "{\"architectures\":[" + json_string(arch) + "],\"model_type\":\"bitnet\",\"hidden_act\":" + json_string(act) +
           "," + numbers + ",\"tie_word_embeddings\":" + (options.tied ? "true" : "false") +
           ",\"bos_token_id\":" + (spm ? "1" : "256") + ",\"eos_token_id\":" + (spm ? "2" : "257") +
           ",\"torch_dtype\":\"bfloat16\"" + quant + "}";
}

}  // namespace

uint16_t to_bf16_bits(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    bits += 0x7fff + ((bits >> 16) & 1);
    return static_cast<uint16_t>(bits >> 16);
}

float bf16_round(float value) {
    const uint32_t bits = static_cast<uint32_t>(to_bf16_bits(value)) << 16;
    float out;
    std::memcpy(&out, &bits, 4);
    return out;
}

std::vector<uint8_t> safetensors_image(const std::vector<HfTensor> &tensors) {
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    uint64_t offset = 0;
    for (const HfTensor &tensor : tensors) {
        header += "," + json_string(tensor.name) + ":{\"dtype\":" + json_string(tensor.dtype) +
                  ",\"shape\":" + json_shape(tensor.shape) + ",\"data_offsets\":[" + std::to_string(offset) + "," +
                  std::to_string(offset + tensor.bytes.size()) + "]}";
        offset += tensor.bytes.size();
    }
    header += "}";
    while (header.size() % 8) header += ' ';
    std::vector<uint8_t> image;
    append_le(image, header.size(), 8);
    image.insert(image.end(), header.begin(), header.end());
    for (const HfTensor &tensor : tensors) image.insert(image.end(), tensor.bytes.begin(), tensor.bytes.end());
    return image;
}

void write_safetensors_streamed(const std::string &path, const std::vector<HfTensor> &tensors,
                                const std::function<void(size_t, uint64_t, uint8_t *, uint64_t)> &fill) {
    std::vector<uint64_t> sizes;
    for (const HfTensor &tensor : tensors) {
        uint64_t bytes = tensor.dtype == "U8" ? 1 : (tensor.dtype == "F32" ? 4 : 2);
        for (uint64_t dim : tensor.shape) bytes *= dim;
        sizes.push_back(bytes);
    }
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    uint64_t offset = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        header += "," + json_string(tensors[i].name) + ":{\"dtype\":" + json_string(tensors[i].dtype) +
                  ",\"shape\":" + json_shape(tensors[i].shape) + ",\"data_offsets\":[" + std::to_string(offset) + "," +
                  std::to_string(offset + sizes[i]) + "]}";
        offset += sizes[i];
    }
    header += "}";
    while (header.size() % 8) header += ' ';
    std::FILE *file = std::fopen(path.c_str(), "wb");
    if (!file) throw std::runtime_error("cannot create " + path);
    std::vector<uint8_t> head;
    append_le(head, header.size(), 8);
    head.insert(head.end(), header.begin(), header.end());
    bool ok = std::fwrite(head.data(), 1, head.size(), file) == head.size();
    std::vector<uint8_t> chunk;
    for (size_t i = 0; i < tensors.size() && ok; ++i) {
        for (uint64_t at = 0; at < sizes[i] && ok; at += uint64_t(64) << 20) {
            const uint64_t n = std::min<uint64_t>(uint64_t(64) << 20, sizes[i] - at);
            chunk.resize(n);
            fill(i, at, chunk.data(), n);
            ok = std::fwrite(chunk.data(), 1, n, file) == n;
        }
    }
    ok = std::fclose(file) == 0 && ok;
    if (!ok) throw std::runtime_error("cannot write " + path);
}

std::string llama3_tokenizer_json(const std::vector<std::string_view> &tokens, const std::vector<int32_t> &types,
                                  const std::vector<std::string_view> &merges) {
    std::string vocab, added, merge_list;
    for (size_t id = 0; id < tokens.size(); ++id) {
        const std::string text(tokens[id]);
        if (types[id] == 3) {
            added += std::string(added.empty() ? "" : ",") + "{\"id\":" + std::to_string(id) + ",\"content\":" +
                     json_string(text) + ",\"special\":true}";
        } else {
            vocab += std::string(vocab.empty() ? "" : ",") + json_string(text) + ":" + std::to_string(id);
        }
    }
    for (std::string_view merge : merges) {
        const size_t space = merge.find(' ', 1);
        merge_list += std::string(merge_list.empty() ? "" : ",") + "[" + json_string(std::string(merge.substr(0, space))) +
                      "," + json_string(std::string(merge.substr(space + 1))) + "]";
    }
    return "{\"version\":\"1.0\",\"added_tokens\":[" + added + "],\"normalizer\":null,"
           "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":" +
           json_string(kLlama3Split) + "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","
           "\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}]},"
           "\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,\"vocab\":{" + vocab + "},\"merges\":[" + merge_list + "]}}";
}

void write_safetensors_checkpoint(const std::string &folder, const std::vector<HfTensor> &tensors, int n_shards) {
    if (n_shards <= 1) {
        write_file(folder + "/model.safetensors", safetensors_image(tensors));
        return;
    }
    std::string map;
    for (int shard = 0; shard < n_shards; ++shard) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", shard + 1, n_shards);
        std::vector<HfTensor> part;
        for (size_t i = static_cast<size_t>(shard); i < tensors.size(); i += static_cast<size_t>(n_shards)) {
            part.push_back(tensors[i]);
            map += (map.empty() ? "" : ",") + json_string(tensors[i].name) + ":" + json_string(name);
        }
        write_file(folder + "/" + name, safetensors_image(part));
    }
    write_text(folder + "/model.safetensors.index.json", "{\"metadata\":{},\"weight_map\":{" + map + "}}");
}

std::vector<uint8_t> sentencepiece_model_proto(const std::vector<std::string> &pieces, const std::vector<float> &scores,
                                               const std::vector<int32_t> &types) {
    std::vector<uint8_t> model;
    for (size_t i = 0; i < pieces.size(); ++i) {
        std::vector<uint8_t> piece;
        put_bytes(piece, 1, std::vector<uint8_t>(pieces[i].begin(), pieces[i].end()));  // piece
        put_tag(piece, 2, 5);                                                           // score (float)
        uint32_t bits;
        std::memcpy(&bits, &scores[i], 4);
        append_le(piece, bits, 4);
        put_tag(piece, 3, 0);  // type
        put_varint(piece, static_cast<uint64_t>(types[i]));
        put_bytes(model, 1, piece);
    }
    std::vector<uint8_t> trainer;
    put_tag(trainer, 3, 0);   // model_type = BPE
    put_varint(trainer, 2);
    put_tag(trainer, 35, 0);  // byte_fallback = true
    put_varint(trainer, 1);
    put_bytes(model, 2, trainer);
    std::vector<uint8_t> normalizer;
    const std::string name = "identity";
    put_bytes(normalizer, 1, std::vector<uint8_t>(name.begin(), name.end()));
    put_bytes(model, 3, normalizer);
    return model;
}

HfCheckpoint write_hf_checkpoint(const std::string &folder, const HfCheckpointOptions &options) {
    ::mkdir(folder.c_str(), 0755);
    const HfShape &s = options.shape;
    const HfKind kind = options.kind;
    Generator generator{std::mt19937(options.seed)};
    std::vector<HfTensor> tensors;
    bitnet::gguf::Writer reference;

    // The reference file: the original weights in F32, in the layout its loader reads.
    const std::string arch = is_llama(kind) ? "llama" : (kind == HfKind::OneBitLlm ? "bitnet" : "bitnet-b1.58");
    reference.set_string("general.architecture", arch);
    reference.set_u32(arch + ".embedding_length", s.n_embd);
    reference.set_u32(arch + ".block_count", s.n_layer);
    reference.set_u32(arch + ".feed_forward_length", s.n_ff);
    reference.set_u32(arch + ".attention.head_count", s.n_head);
    reference.set_u32(arch + ".attention.head_count_kv", s.n_head_kv);
    reference.set_f32(arch + ".attention.layer_norm_rms_epsilon", static_cast<float>(s.rms_eps));
    reference.set_f32(arch + ".rope.freq_base", static_cast<float>(s.rope_theta));
    if (arch == "bitnet") reference.set_string(arch + ".hidden_activation", "silu");
    // F32, or I2_S for the packed llama kind: the reference reads a `llama` file's F32 projections as
    // dense (no int8 activations), its I2_S ones as BitLinear, which is what that checkpoint is.
    auto add_reference = [&](const std::string &name, std::vector<uint64_t> dims, std::vector<float> values,
                             bitnet::TensorType type = bitnet::TensorType::F32) {
        auto shared = std::make_shared<std::vector<float>>(std::move(values));
        reference.add_tensor(name, type, dims, [shared, type, dims](uint8_t *out, uint64_t) {
            bitnet::quantize_tensor(type, shared->data(), dims[0], shared->size() / dims[0], out);
        });
    };
    auto add_float = [&](const std::string &hf_name, const std::string &gguf_name, std::vector<uint64_t> shape,
                         std::vector<float> values) {
        // 1bitLLM ships F32 latent weights; the others BF16 (values are bf16-exact either way).
        const bool f32 = kind == HfKind::OneBitLlm;
        tensors.push_back({hf_name, f32 ? "F32" : "BF16", shape, f32 ? f32_bytes(values) : bf16_bytes(values)});
        std::vector<uint64_t> dims(shape.rbegin(), shape.rend());
        add_reference(gguf_name, dims, std::move(values));
    };

    const uint64_t n_embd = s.n_embd, n_ff = s.n_ff, n_vocab = s.n_vocab;
    const uint64_t head_dim = n_embd / s.n_head, n_kv = head_dim * s.n_head_kv;
    add_float("model.embed_tokens.weight", "token_embd.weight", {n_vocab, n_embd}, generator.floats(n_vocab * n_embd, 1.0f, 1e-3f));
    add_float("model.norm.weight", "output_norm.weight", {n_embd}, [&] {
        auto v = generator.floats(n_embd, 0.1f);
        for (float &x : v) x = bf16_round(1.0f + x);
        return v;
    }());
    if (!options.tied) add_float("lm_head.weight", "output.weight", {n_vocab, n_embd}, generator.floats(n_vocab * n_embd, 0.1f));

    auto norm = [&](uint64_t n) {
        auto v = generator.floats(n, 0.1f);
        for (float &x : v) x = bf16_round(1.0f + x);
        return v;
    };
    struct Projection {
        const char *hf, *gguf;
        uint64_t rows, cols;
    };
    const Projection projections[] = {
        {"self_attn.q_proj", "attn_q", n_embd, n_embd},   {"self_attn.k_proj", "attn_k", n_kv, n_embd},
        {"self_attn.v_proj", "attn_v", n_kv, n_embd},     {"self_attn.o_proj", "attn_output", n_embd, n_embd},
        {"mlp.gate_proj", "ffn_gate", n_ff, n_embd},      {"mlp.up_proj", "ffn_up", n_ff, n_embd},
        {"mlp.down_proj", "ffn_down", n_embd, n_ff},
    };
    for (int layer = 0; layer < s.n_layer; ++layer) {
        const std::string hf = "model.layers." + std::to_string(layer) + ".";
        const std::string gg = "blk." + std::to_string(layer) + ".";
        add_float(hf + "input_layernorm.weight", gg + "attn_norm.weight", {n_embd}, norm(n_embd));
        add_float(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", {n_embd}, norm(n_embd));
        if (has_sub_norms(kind)) {
            const bool one_bit = kind == HfKind::OneBitLlm;
            add_float(hf + (one_bit ? "self_attn.inner_attn_ln.weight" : "self_attn.attn_sub_norm.weight"),
                      gg + "attn_sub_norm.weight", {n_embd}, norm(n_embd));
            add_float(hf + (one_bit ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight"), gg + "ffn_sub_norm.weight",
                      {n_ff}, norm(n_ff));
        }
        for (const Projection &p : projections) {
            const std::string hf_name = hf + p.hf + ".weight";
            const std::string gguf_name = gg + p.gguf + ".weight";
            const float sigma = static_cast<float>(1.0 / std::sqrt(0.6 * static_cast<double>(p.cols)));
            std::vector<float> effective;
            if (is_packed(kind)) {
                std::vector<float> codes = generator.codes(p.rows * p.cols);
                tensors.push_back({hf_name, "U8", {p.rows / 4, p.cols}, pack_codes(codes, p.rows, p.cols)});
                // weight_scale is absmean-like (multiply) or its reciprocal (divide), stored in BF16.
                // An absent linear_class is BitNetQuantConfig's default "bitlinear" (transformers
                // utils/quantization_config.py), so it divides too.
                const bool divide = options.linear_class == "bitlinear" || options.linear_class.empty();
                const float weight_scale = bf16_round(divide ? 1.0f / sigma : sigma);
                tensors.push_back({hf + p.hf + ".weight_scale", "BF16", {1}, bf16_bytes({weight_scale})});
                const float scale = divide ? static_cast<float>(1.0 / static_cast<double>(weight_scale)) : weight_scale;
                effective.resize(codes.size());
                for (size_t i = 0; i < codes.size(); ++i) effective[i] = codes[i] * scale;
            } else if (kind == HfKind::FloatLlama) {
                effective = generator.floats(p.rows * p.cols, sigma);
                tensors.push_back({hf_name, "BF16", {p.rows, p.cols}, bf16_bytes(effective)});
            } else {
                effective = latent_weights(generator, p.rows * p.cols, sigma);  // the reference ternarizes it
                const bool f32 = kind == HfKind::OneBitLlm;
                tensors.push_back({hf_name, f32 ? "F32" : "BF16", {p.rows, p.cols}, f32 ? f32_bytes(effective) : bf16_bytes(effective)});
            }
            if (is_llama(kind) && std::string(p.gguf) == "attn_q") effective = permute_rows(effective, s.n_head, head_dim, p.cols);
            if (is_llama(kind) && std::string(p.gguf) == "attn_k") effective = permute_rows(effective, s.n_head_kv, head_dim, p.cols);
            add_reference(gguf_name, {p.cols, p.rows}, std::move(effective),
                          kind == HfKind::TernaryLlama ? bitnet::TensorType::I2_S : bitnet::TensorType::F32);
        }
    }
    tensors.insert(tensors.end(), options.extra_tensors.begin(), options.extra_tensors.end());
    write_safetensors_checkpoint(folder, tensors, options.n_shards);
    write_text(folder + "/config.json", config_json(options));
    write_text(folder + "/generation_config.json", "{\"bos_token_id\":256,\"eos_token_id\":[257,258]}");
    write_text(folder + "/tokenizer_config.json",
               "{\"add_bos_token\":true,\"chat_template\":\"{% for message in messages %}{{ message['role'] | capitalize + ': ' + message['content'] + '<|eot_id|>' }}{% endfor %}\"}");
    if (kind == HfKind::OneBitLlm) {
        std::vector<std::string> pieces = {"<unk>", "<s>", "</s>"};
        std::vector<int32_t> types = {2, 3, 3};
        for (int byte = 0; byte < 256; ++byte) {
            char text[8];
            std::snprintf(text, sizeof text, "<0x%02X>", byte);
            pieces.push_back(text);
            types.push_back(6);
        }
        std::vector<float> scores(pieces.size(), 0.0f);
        write_file(folder + "/tokenizer.model", sentencepiece_model_proto(pieces, scores, types));
    } else {
        write_text(folder + "/tokenizer.json", tiny_tokenizer_json());
    }
    return {folder, reference.write_to_memory()};
}

}  // namespace bitnet_test
