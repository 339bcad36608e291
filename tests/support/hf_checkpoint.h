// Small Hugging Face checkpoints written by the tests themselves, to test `bitnet convert`: a
// minimal safetensors writer (the format of https://huggingface.co/docs/safetensors), config and
// tokenizer files, and, beside each checkpoint, a GGUF image of the same original weights in F32
// for the double-precision reference (tests/reference), which shares no code with the converter.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <map>
#include <string>
#include <vector>

namespace bitnet_test {

struct HfTensor {
    std::string name;
    std::string dtype;            // "BF16", "F16", "F32", "U8"
    std::vector<uint64_t> shape;  // PyTorch order
    std::vector<uint8_t> bytes;
};

// The bytes of a safetensors file holding `tensors` in order (header padded with spaces to 8).
std::vector<uint8_t> safetensors_image(const std::vector<HfTensor> &tensors);
// Write them as model.safetensors, or as `n_shards` files with model.safetensors.index.json.
void write_safetensors_checkpoint(const std::string &folder, const std::vector<HfTensor> &tensors, int n_shards = 1);

// A safetensors file too large to build in memory: the header from `tensors` (their `bytes` are
// ignored), then each tensor's data from `fill(index, out, n_bytes)`, in chunks of at most 64 MiB
// (`fill` is called once per chunk with the byte offset inside the tensor).
void write_safetensors_streamed(const std::string &path, const std::vector<HfTensor> &tensors,
                                const std::function<void(size_t index, uint64_t offset, uint8_t *out, uint64_t n_bytes)> &fill);

// tokenizer.json text for a vocabulary GGUF with tokenizer.ggml.model "gpt2" (tokens, types,
// merges): control tokens become special added_tokens, merges [left, right] pairs, and the
// pre-tokenizer the Llama 3 split regex followed by ByteLevel.
std::string llama3_tokenizer_json(const std::vector<std::string_view> &tokens, const std::vector<int32_t> &types,
                                  const std::vector<std::string_view> &merges);

// bfloat16 bits of a float, round to nearest even (no NaN inputs).
uint16_t to_bf16_bits(float value);
float bf16_round(float value);

// The checkpoint kinds of issue 13.
enum class HfKind {
    MicrosoftPacked,  // microsoft/bitnet-b1.58-2B-4T: U8 [out/4, in] + BF16 weight_scale
    MicrosoftMaster,  // microsoft/bitnet-b1.58-2B-4T-bf16: BF16 latent weights
    OneBitLlm,        // 1bitLLM/bitnet_b1_58-*: F32 latent weights, SiLU, SentencePiece
    TernaryLlama,     // HF1BitLLM/Llama3-8B-1.58, Falcon3-1.58bit: packed, SiLU, no sub-norms
    FloatLlama,       // plain LlamaForCausalLM
};

struct HfShape {
    int n_vocab = 259;  // 256 byte tokens + 3 specials
    int n_embd = 256;
    int n_layer = 2;
    int n_head = 4;
    int n_head_kv = 2;
    int n_ff = 384;
    double rope_theta = 10000.0;
    double rms_eps = 1e-5;
};

struct HfCheckpointOptions {
    HfKind kind = HfKind::MicrosoftPacked;
    HfShape shape;
    // Packed kinds: "autobitlinear" (multiply) or "bitlinear" (divide); "" leaves linear_class (and
    // quantization_mode) out of quantization_config, as the HF1BitLLM Llama3-8B-1.58 and
    // tiiuae/Falcon3-*-1.58bit configs do: transformers' BitNetQuantConfig then defaults it to
    // "bitlinear", whose BitLinear.forward divides by weight_scale (integrations/bitnet.py).
    std::string linear_class = "autobitlinear";
    int n_shards = 1;
    bool tied = true;
    uint32_t seed = 1;
    std::vector<HfTensor> extra_tensors;  // appended to the weights as they are
};

struct HfCheckpoint {
    std::string folder;
    std::vector<uint8_t> reference_image;  // GGUF of the original weights for bitnet_reference::Model
};

// Write the checkpoint under `folder` (created): config.json, generation_config.json, tokenizer
// files (a byte-level tokenizer.json, or a SentencePiece tokenizer.model for OneBitLlm),
// tokenizer_config.json with a chat template, and the weights.
HfCheckpoint write_hf_checkpoint(const std::string &folder, const HfCheckpointOptions &options);

// A serialized SentencePiece ModelProto (BPE, byte fallback) of `pieces` (piece, score, type with
// the sentencepiece_model.proto type numbers 1 normal .. 6 byte), encoded by hand in the protobuf
// wire format, since libsentencepiece-dev ships no generated proto header.
std::vector<uint8_t> sentencepiece_model_proto(const std::vector<std::string> &pieces, const std::vector<float> &scores,
                                               const std::vector<int32_t> &types);

}  // namespace bitnet_test
