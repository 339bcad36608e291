#include "synth/synth.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include "gguf/gguf_writer.h"
#include "gguf/model_keys.h"
#include "synth/synth_vocab.h"
#include "tensor/quantize.h"
#include "util/error.h"
#include "util/half.h"
#include "util/mapped_file.h"

namespace bitnet {
namespace {

// splitmix64: a small, fast generator whose streams we key by (seed, tensor name).
class Random {
public:
    explicit Random(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    // Approximately standard normal: the sum of four 16-bit uniforms (Irwin-Hall), centred and
    // scaled. Cheap enough for the 328M embedding values of the 2b4t shape.
    double normal() {
        uint64_t bits = next();
        double sum = 0.0;
        for (int k = 0; k < 4; ++k, bits >>= 16) sum += static_cast<double>(bits & 0xffff) * (1.0 / 65536.0);
        return (sum - 2.0) * 1.7320508075688772;  // variance of the sum is 4/12
    }

private:
    uint64_t state_;
};

Random tensor_random(uint64_t seed, const std::string &name) {
    uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a
    for (unsigned char c : name) hash = (hash ^ c) * 0x100000001b3ull;
    return Random(hash ^ (seed * 0x9e3779b97f4a7c15ull));
}

float round_to_half(float value) { return half_to_float(float_to_half(value)); }

// Ternary weights times one f16-exact scale, so every format stores them exactly.
std::vector<float> ternary_weights(uint64_t seed, const std::string &name, uint64_t cols, uint64_t rows) {
    Random random = tensor_random(seed, name);
    // A scale near 1/sqrt(0.6 * fan_in) keeps projection outputs near unit size (0.6 = share of
    // non-zero codes below), varied per tensor so scale handling is exercised.
    float alpha = round_to_half(static_cast<float>((0.75 + 0.5 * random.uniform()) / std::sqrt(0.6 * cols)));
    std::vector<float> values(cols * rows);
    // Each byte of a draw picks one code: P(-1) = 77/256, P(0) = 102/256, P(+1) = 77/256.
    uint64_t bits = 0;
    for (size_t i = 0; i < values.size(); ++i) {
        if (i % 8 == 0) bits = random.next();
        const unsigned byte = static_cast<unsigned>(bits & 0xff);
        bits >>= 8;
        values[i] = byte < 77 ? -alpha : (byte < 179 ? 0.0f : alpha);
    }
    return values;
}

std::vector<float> norm_weights(uint64_t seed, const std::string &name, uint64_t n) {
    Random random = tensor_random(seed, name);
    std::vector<float> values(n);
    for (float &value : values) value = static_cast<float>(1.0 + 0.1 * random.normal());
    return values;
}

// Embedding rows are f16-exact whatever the stored type, so F16 and F32 files agree.
void embedding_rows(uint64_t seed, uint64_t cols, uint64_t first_row, uint64_t n_rows, float *out) {
    const double std_dev = 4.0 / std::sqrt(static_cast<double>(cols));
    for (uint64_t row = 0; row < n_rows; ++row) {
        Random random = tensor_random(seed, "token_embd.weight#" + std::to_string(first_row + row));
        for (uint64_t col = 0; col < cols; ++col) {
            out[row * cols + col] = round_to_half(static_cast<float>(std_dev * random.normal()));
        }
    }
}

gguf::Writer::TensorFiller filler_for(TensorType type, std::vector<float> values, uint64_t cols) {
    auto shared = std::make_shared<std::vector<float>>(std::move(values));
    return [type, shared, cols](uint8_t *destination, uint64_t) {
        quantize_tensor(type, shared->data(), cols, shared->size() / cols, destination);
    };
}

// Streams the embedding in row chunks: the 2b4t one is 328M values.
gguf::Writer::TensorFiller embedding_filler(TensorType type, uint64_t seed, uint64_t cols, uint64_t rows) {
    return [type, seed, cols, rows](uint8_t *destination, uint64_t) {
        const uint64_t chunk_rows = 4096;
        std::vector<float> buffer(chunk_rows * cols);
        const uint64_t row_bytes = tensor_row_bytes(type, cols);
        for (uint64_t row = 0; row < rows; row += chunk_rows) {
            uint64_t n = std::min(chunk_rows, rows - row);
            embedding_rows(seed, cols, row, n, buffer.data());
            quantize_tensor(type, buffer.data(), cols, n, destination + row * row_bytes);
        }
    };
}

void check_shape(const SynthOptions &options) {
    const SynthShape &s = options.shape;
    if (s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.n_ff <= 0) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "synth: every dimension must be positive");
    }
    if (s.n_embd % s.n_head != 0 || s.n_head % s.n_head_kv != 0) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "synth: n_embd %% n_head and n_head %% n_head_kv must be 0");
    }
    if (options.hidden_activation != "relu2" && options.hidden_activation != "silu") {
        fail(BITNET_ERR_INVALID_ARGUMENT, "synth: activation must be relu2 or silu (got '%s')",
             options.hidden_activation.c_str());
    }
    if (options.format == TensorType::I2_S && options.hidden_activation != "relu2") {
        fail(BITNET_ERR_INVALID_ARGUMENT, "synth: the i2_s format copies the 2B-4T layout, which is always relu2");
    }
    const TensorTypeTraits &traits = tensor_type_traits(options.format);
    for (int32_t cols : {s.n_embd, s.n_ff}) {
        if (cols % traits.block_elements != 0) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "synth: format %s needs n_embd and n_ff to be multiples of %u (got %d)",
                 traits.name, traits.block_elements, cols);
        }
    }
    if (s.n_embd % tensor_type_traits(options.embedding_type).block_elements != 0) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "synth: embedding type %s needs n_embd to be a multiple of %u",
             tensor_type_name(options.embedding_type), tensor_type_traits(options.embedding_type).block_elements);
    }
}

gguf::Writer build_writer(const SynthOptions &options, const gguf::File *vocab_file) {
    check_shape(options);
    const SynthShape &s = options.shape;
    const bool official = options.format == TensorType::I2_S;
    // The I2_S file copies the official 2B-4T layout (formats.md §2.9); the others are llama.cpp
    // "bitnet" files, which name the ReLU² activation explicitly.
    const std::string arch = official ? "bitnet-b1.58" : "bitnet";
    SynthVocabulary vocab = make_synth_vocabulary(vocab_file, s.n_vocab);
    const uint64_t n_vocab = vocab.n_tokens;

    gguf::ModelKeys keys;
    keys.architecture = arch;
    keys.name = options.name;
    keys.n_vocab = static_cast<uint32_t>(n_vocab);
    keys.n_ctx = static_cast<uint32_t>(s.n_ctx);
    keys.n_embd = static_cast<uint32_t>(s.n_embd);
    keys.n_layer = static_cast<uint32_t>(s.n_layer);
    keys.n_ff = static_cast<uint32_t>(s.n_ff);
    keys.n_head = static_cast<uint32_t>(s.n_head);
    keys.n_head_kv = static_cast<uint32_t>(s.n_head_kv);
    keys.rms_eps = 1e-5f;
    keys.rope_freq_base = s.rope_freq_base;
    keys.file_type = gguf::llama_file_type(options.format);
    if (!official) keys.hidden_activation = options.hidden_activation;
    gguf::Writer writer;
    gguf::write_model_keys_head(writer, keys);
    write_vocabulary_flag_keys(writer, vocab);
    gguf::write_model_keys_tail(writer, keys);
    write_vocabulary_keys(writer, vocab, /*official_layout=*/official);
    writer.set_u32("general.quantization_version", 2);

    const uint64_t seed = options.seed;
    const uint64_t n_embd = s.n_embd, n_ff = s.n_ff;
    const uint64_t n_embd_kv = static_cast<uint64_t>(s.n_embd / s.n_head) * s.n_head_kv;
    const TensorType embd_type = options.embedding_type;
    writer.add_tensor("token_embd.weight", embd_type, {n_embd, n_vocab},
                      embedding_filler(embd_type, seed, n_embd, n_vocab));
    writer.add_tensor("output_norm.weight", TensorType::F32, {n_embd},
                      filler_for(TensorType::F32, norm_weights(seed, "output_norm.weight", n_embd), n_embd));

    auto add_norm = [&](const std::string &name, uint64_t n) {
        writer.add_tensor(name, TensorType::F32, {n}, filler_for(TensorType::F32, norm_weights(seed, name, n), n));
    };
    auto add_projection = [&](const std::string &name, uint64_t cols, uint64_t rows) {
        // Weights are drawn lazily inside the filler so that only one tensor is in memory.
        TensorType type = options.format;
        writer.add_tensor(name, type, {cols, rows}, [type, seed, name, cols, rows](uint8_t *destination, uint64_t) {
            std::vector<float> values = ternary_weights(seed, name, cols, rows);
            quantize_tensor(type, values.data(), cols, rows, destination);
        });
    };
    for (int32_t layer = 0; layer < s.n_layer; ++layer) {
        const std::string p = "blk." + std::to_string(layer) + ".";
        add_norm(p + "attn_norm.weight", n_embd);
        add_projection(p + "attn_q.weight", n_embd, n_embd);
        add_projection(p + "attn_k.weight", n_embd, n_embd_kv);
        add_projection(p + "attn_v.weight", n_embd, n_embd_kv);
        add_projection(p + "attn_output.weight", n_embd, n_embd);
        add_norm(p + "attn_sub_norm.weight", n_embd);
        add_norm(p + "ffn_norm.weight", n_embd);
        add_projection(p + "ffn_gate.weight", n_embd, n_ff);
        add_projection(p + "ffn_up.weight", n_embd, n_ff);
        add_norm(p + "ffn_sub_norm.weight", n_ff);
        add_projection(p + "ffn_down.weight", n_ff, n_embd);
    }
    return writer;
}

struct VocabSource {
    MappedFile mapping;
    std::optional<gguf::File> file;
};

VocabSource open_vocabulary(const std::string &path) {
    VocabSource source;
    if (path.empty()) return source;
    source.mapping = MappedFile::open(path);
    source.file = gguf::File::parse(source.mapping.data(), source.mapping.size());
    return source;
}

}  // namespace

SynthShape synth_preset(const std::string &name) {
    SynthShape s;
    if (name == "tiny") {
        s = {256, 2, 4, 2, 512, 256, 10000.0f, 0};
    } else if (name == "small") {
        s = {512, 4, 8, 2, 1536, 1024, 500000.0f, 0};
    } else if (name == "2b4t") {
        s = {2560, 30, 20, 5, 6912, 4096, 500000.0f, 128256};  // formats.md §2.9 / §3.1
    } else {
        fail(BITNET_ERR_INVALID_ARGUMENT, "synth: unknown preset '%s' (tiny, small, 2b4t)", name.c_str());
    }
    return s;
}

void write_synthetic_model(const SynthOptions &options, const std::string &path) {
    VocabSource vocab = open_vocabulary(options.vocab_path);
    build_writer(options, vocab.file ? &*vocab.file : nullptr).write(path);
}

std::vector<uint8_t> synthesize_model(const SynthOptions &options) {
    VocabSource vocab = open_vocabulary(options.vocab_path);
    return build_writer(options, vocab.file ? &*vocab.file : nullptr).write_to_memory();
}

}  // namespace bitnet
