// `bitnet convert` on a checkpoint of the real microsoft/bitnet-b1.58-2B-4T shape (formats.md §2.9,
// §3.4: 30 layers, 2560 wide, 128256 tokens; ~1.2 GB of safetensors, random packed codes): reports
// conversion time, peak RSS beyond the mapped inputs, and the output size against the official
// file's 1,187,801,408 bytes. Label `heavy` (CI skips it): it needs ~2.5 GB of disk.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "convert/converter.h"
#include "gguf/gguf.h"
#include "support/hf_checkpoint.h"
#include "support/official_layout.h"
#include "support/test_support.h"
#include "tensor/quantize.h"
#include "util/mapped_file.h"

namespace {

// Anonymous resident memory of this process (heap, stacks; not file-backed mappings), in bytes.
uint64_t anonymous_rss() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("RssAnon:", 0) == 0) return std::stoull(line.substr(8)) * 1024;
    }
    return 0;
}

// The byte of packed row r, column c of tensor `index`: four codes in {0, 1, 2} from a hash.
uint8_t packed_byte(size_t index, uint64_t position) {
    uint64_t h = (position + 1) * 0x9e3779b97f4a7c15ull ^ (index * 0xbf58476d1ce4e5b9ull);
    h ^= h >> 29;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 32;
    uint8_t byte = 0;
    for (int k = 0; k < 4; ++k) byte |= static_cast<uint8_t>(((h >> (8 * k)) % 3) << (2 * k));
    return byte;
}

TEST(HeavyConvert, Official2B4TShapeTimeMemoryAndSize) {
    const std::string folder = bitnet_test::temp_dir() + "/hf_2b4t";
    ::mkdir(folder.c_str(), 0755);
    struct RemoveFiles {  // ~2.4 GB: never left behind, whatever the test's outcome
        std::string folder;
        ~RemoveFiles() {
            for (const char *name : {"/model.safetensors", "/ggml-model-i2_s.gguf", "/tokenizer.json"}) std::remove((folder + name).c_str());
        }
    } remove_files{folder};
    const uint64_t n_embd = 2560, n_ff = 6912, n_kv = 640, n_vocab = 128256;
    const int n_layer = 30;

    std::vector<bitnet_test::HfTensor> tensors;
    tensors.push_back({"model.embed_tokens.weight", "BF16", {n_vocab, n_embd}, {}});
    tensors.push_back({"model.norm.weight", "BF16", {n_embd}, {}});
    struct P { const char *name; uint64_t rows, cols; };
    const P projections[] = {{"self_attn.q_proj", n_embd, n_embd}, {"self_attn.k_proj", n_kv, n_embd},
                             {"self_attn.v_proj", n_kv, n_embd},   {"self_attn.o_proj", n_embd, n_embd},
                             {"mlp.gate_proj", n_ff, n_embd},      {"mlp.up_proj", n_ff, n_embd},
                             {"mlp.down_proj", n_embd, n_ff}};
    for (int layer = 0; layer < n_layer; ++layer) {
        const std::string p = "model.layers." + std::to_string(layer) + ".";
        for (const char *norm : {"input_layernorm", "post_attention_layernorm", "self_attn.attn_sub_norm"}) {
            tensors.push_back({p + norm + ".weight", "BF16", {n_embd}, {}});
        }
        tensors.push_back({p + "mlp.ffn_sub_norm.weight", "BF16", {n_ff}, {}});
        for (const P &proj : projections) {
            tensors.push_back({p + proj.name + ".weight", "U8", {proj.rows / 4, proj.cols}, {}});
            tensors.push_back({p + proj.name + ".weight_scale", "BF16", {1}, {}});
        }
    }
    const uint16_t one_bf16 = bitnet_test::to_bf16_bits(1.0f), scale_bf16 = bitnet_test::to_bf16_bits(0.015625f);
    auto fill = [&](size_t index, uint64_t offset, uint8_t *out, uint64_t n) {
        const auto &tensor = tensors[index];
        if (tensor.dtype == "U8") {
            for (uint64_t i = 0; i < n; ++i) out[i] = packed_byte(index, offset + i);
            return;
        }
        const bool scale = tensor.name.find("weight_scale") != std::string::npos;
        const bool embedding = tensor.name == "model.embed_tokens.weight";
        for (uint64_t i = 0; i < n; i += 2) {
            uint16_t bits = scale ? scale_bf16 : one_bf16;
            if (embedding) bits = bitnet_test::to_bf16_bits(static_cast<float>(static_cast<int>(packed_byte(index, (offset + i) / 2) % 61) - 30) / 64.0f);
            std::memcpy(out + i, &bits, 2);
        }
    };
    const auto write_start = std::chrono::steady_clock::now();
    bitnet_test::write_safetensors_streamed(folder + "/model.safetensors", tensors, fill);
    std::printf("[ heavy convert ] wrote the 2B-4T-shape checkpoint in %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - write_start).count());

    std::string config =
        "{\"architectures\":[\"BitNetForCausalLM\"],\"hidden_act\":\"relu2\",\"hidden_size\":2560,\"intermediate_size\":6912,"
        "\"max_position_embeddings\":4096,\"num_attention_heads\":20,\"num_hidden_layers\":30,\"num_key_value_heads\":5,"
        "\"rms_norm_eps\":1e-05,\"rope_theta\":500000.0,\"tie_word_embeddings\":true,\"vocab_size\":128256,"
        "\"bos_token_id\":128000,\"eos_token_id\":128001,"
        "\"quantization_config\":{\"quant_method\":\"bitnet\",\"linear_class\":\"autobitlinear\",\"quantization_mode\":\"offline\"}}";
    bitnet_test::write_file(folder + "/config.json", std::vector<uint8_t>(config.begin(), config.end()));
    const std::string vocab_path = bitnet_test::fixture_path("vocab/ggml-vocab-llama3-bpe.gguf");
    if (vocab_path.empty()) GTEST_SKIP() << "skipped: fixture vocab/ggml-vocab-llama3-bpe.gguf not found (the real vocabulary sets the file size)";
    {
        bitnet::MappedFile mapping = bitnet::MappedFile::open(vocab_path);
        const auto vocab = bitnet::gguf::File::parse(mapping.data(), mapping.size());
        const std::string json = bitnet_test::llama3_tokenizer_json(*vocab.get_string_array("tokenizer.ggml.tokens"),
                                                                    *vocab.get_i32_array("tokenizer.ggml.token_type"),
                                                                    *vocab.get_string_array("tokenizer.ggml.merges"));
        bitnet_test::write_file(folder + "/tokenizer.json", std::vector<uint8_t>(json.begin(), json.end()));
    }
    const std::string tokenizer_config = "{\"chat_template\":\"{% for message in messages %}{{ message['content'] }}{% endfor %}\"}";
    bitnet_test::write_file(folder + "/tokenizer_config.json", std::vector<uint8_t>(tokenizer_config.begin(), tokenizer_config.end()));

    // Convert, sampling the anonymous RSS every 5 ms.
    const uint64_t baseline = anonymous_rss();
    std::atomic<bool> done{false};
    std::atomic<uint64_t> peak{baseline};
    std::thread sampler([&] {
        while (!done) {
            peak = std::max<uint64_t>(peak, anonymous_rss());
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    bitnet::convert::ConvertOptions options;
    options.input_folder = folder;
    options.output_path = folder + "/ggml-model-i2_s.gguf";
    options.name = "bitnet2b";
    const auto start = std::chrono::steady_clock::now();
    EXPECT_NO_THROW(bitnet::convert::convert_checkpoint(options));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done = true;
    sampler.join();

    const uint64_t largest_tensor = n_vocab * n_embd * 2;  // token_embd, F16 out (and BF16 in)
    const uint64_t growth = peak - baseline;
    struct stat info {};
    ASSERT_EQ(::stat(options.output_path.c_str(), &info), 0);
    std::printf("[ heavy convert ] converted in %.1f s; anonymous RSS grew by %.1f MiB (limit: largest tensor %.1f MiB + 64 MiB); "
                "output %lld bytes vs official 1187801408 (%+lld)\n",
                seconds, growth / 1048576.0, largest_tensor / 1048576.0, static_cast<long long>(info.st_size),
                static_cast<long long>(info.st_size) - 1187801408LL);
    EXPECT_LE(growth, largest_tensor + (uint64_t(64) << 20));

    bitnet::MappedFile mapping = bitnet::MappedFile::open(options.output_path);
    const auto file = bitnet::gguf::File::parse(mapping.data(), mapping.size());
    bitnet_test::expect_official_layout(file, n_layer);
    // Spot check: packed row 5 of layer 0's q_proj, bits 1:0, is output row 5 (formats.md §3.4).
    const auto *q = file.find_tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    const size_t q_index = 2 + 4;  // embed, norm, then layer 0: 4 norms before q_proj
    ASSERT_EQ(tensors[q_index].name, "model.layers.0.self_attn.q_proj.weight");
    for (uint64_t col = 0; col < n_embd; col += 97) {
        const int expected = (packed_byte(q_index, 5 * n_embd + col) & 3) - 1;
        EXPECT_EQ(bitnet::i2s_ternary_at(q->data, 5 * n_embd + col), expected) << "column " << col;
    }
    EXPECT_FLOAT_EQ(bitnet::tensor_scale(bitnet::TensorType::I2_S, q->data, q->n_elements), 0.015625f);
}

}  // namespace
