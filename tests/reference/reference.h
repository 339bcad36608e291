// The reference forward pass: BitNet b1.58 (and plain llama) in double precision, written to be
// read in one sitting. It is the oracle for every numerical test of the engine and shares no
// compute code with it: only the GGUF reader is borrowed, to find metadata and tensor bytes.
// Weight decoding lives in reference_decode.cpp, loading in reference_model.cpp, the forward pass
// in reference.cpp.
//
// What it computes (formats.md §2.4, §2.8, §3.2, §3.3):
//   x = token_embd[token]
//   per layer:  h = rmsnorm(x) * attn_norm;  q, k, v = projections of h;  RoPE on q and k
//               a = causal GQA softmax(q k^T / sqrt(head_dim)) v
//               a = rmsnorm(a) * attn_sub_norm                      (when the model has sub-norms)
//               x += Wo a
//               h = rmsnorm(x) * ffn_norm;  f = act(Wgate h) * (Wup h)   (act: silu or relu^2)
//               f = rmsnorm(f) * ffn_sub_norm                       (when the model has sub-norms)
//               x += Wdown f
//   logits = lm_head . (rmsnorm(x) * output_norm)        (lm_head = output.weight or token_embd)
//
// Projections come in two kinds:
//   BitLinear: ternary codes t in {-1,0,+1} times scales (per tensor for I2_S and ternary-valued
//     float tensors, per 256-element block for TQ1_0/TQ2_0). In int8 mode the input is quantized
//     per token: s = 127 / max(max|x|, 1e-5), q = clamp(round_half_even(x*s), -128, 127), and
//     y_r = sum_b scale_rb * (sum_{i in b} t_ri q_i) / s. In float mode y = W_eff x.
//   Dense: float weights used as they are, never with activation quantization (llama float
//     files; the embedding and lm_head are always dense).
// In the bitnet architectures a float projection whose values are ternary times one constant is
// used exactly as stored; any other float projection is ternarized with absmean first
// (s = max(mean|W|, 1e-5), W_eff = clamp(round(W/s), -1, 1) * s), as the HF checkpoints expect.
// An optional "<base>.scale" tensor of shape [1] multiplies the projection's output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor_type.h"

namespace bitnet_reference {

// ---------------------------------------------------------------------------------------------
// Scalars

double half_to_double(uint16_t bits);      // IEEE binary16, exact (subnormals, inf, NaN)
double bfloat16_to_double(uint16_t bits);  // bfloat16, exact
// Round to the nearest binary16 value, ties to even, straight from double (no double rounding
// through float). Overflow gives +-infinity.
double round_to_half(double value);

// ---------------------------------------------------------------------------------------------
// Weight decoding (formats.md §1.6, §2.2, §2.3), independent of lib/tensor.

// A ternary tensor: rows x cols codes and one scale per `block` consecutive elements of a row.
struct TernaryTensor {
    int rows = 0;
    int cols = 0;
    int block = 0;                // elements per scale along a row: cols (one scale) or 256 (TQ)
    std::vector<int8_t> codes;    // rows * cols values in {-1, 0, +1}, row-major
    std::vector<double> scales;   // rows * (cols / block), row-major
};

// Decode an I2_S, TQ1_0 or TQ2_0 tensor whose bytes start at `data`. Throws std::runtime_error on
// a code that is not ternary (I2_S or TQ2_0 code 3) or a shape the type cannot hold.
TernaryTensor decode_ternary(bitnet::TensorType type, const uint8_t *data, int rows, int cols);

// Decode any supported type (F32, F16, BF16, Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0, I2_S, and the
// quantizer fallback types Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, IQ4_NL) to doubles, row-major,
// rows * cols values.
std::vector<double> decode_dense(bitnet::TensorType type, const uint8_t *data, int rows, int cols);

// ---------------------------------------------------------------------------------------------
// The model

enum class FfnActivation { Silu, ReluSquared };
// Neox: rotate pairs (i, i + n_rot/2) within a head (bitnet archs). Adjacent: pairs (2i, 2i+1),
// llama.cpp's "normal" RoPE, which its `llama` architecture uses (llama2.c weights are unpermuted).
enum class RopeStyle { Neox, Adjacent };

struct HyperParameters {
    std::string architecture;  // general.architecture
    int n_vocab = 0;
    int n_embd = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    int n_ff = 0;
    int n_rot = 0;
    double rope_base = 10000.0;
    double rms_eps = 1e-5;
    FfnActivation activation = FfnActivation::Silu;
    RopeStyle rope_style = RopeStyle::Neox;
    bool sub_norms = false;
};

enum class Projection { Q, K, V, AttentionOutput, Gate, Up, Down };
inline constexpr int kProjectionCount = 7;
const char *projection_name(Projection which);  // "attn_q", "attn_k", ..., "ffn_down"

// One projection matrix: `rows` outputs of `cols` inputs, decoded to double.
struct Weight {
    std::string stored_type;     // the file's type name, e.g. "i2_s", "f32"
    int rows = 0;
    int cols = 0;
    bool bitlinear = false;      // true: `ternary` holds the weight; false: `dense` does
    TernaryTensor ternary;
    std::vector<double> dense;   // rows * cols
    double output_scale = 1.0;   // the optional "<base>.scale" tensor

    // The weight the matmul effectively uses at (row, col), output_scale included.
    double effective(int row, int col) const;
};

struct Layer {
    std::vector<double> attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm;  // sub-norms may be empty
    Weight projections[kProjectionCount];                                   // indexed by Projection

    const Weight &projection(Projection which) const { return projections[static_cast<int>(which)]; }
};

class Model {
public:
    // Read and decode a GGUF file. Throws on anything missing, misshapen or unsupported.
    static Model load(const std::string &path);
    // The same from a file image in memory (not kept after the call).
    static Model from_image(const uint8_t *image, uint64_t size);

    const HyperParameters &hparams() const { return hparams_; }
    const Layer &layer(int index) const { return layers_.at(static_cast<size_t>(index)); }
    const std::vector<double> &token_embedding() const { return token_embedding_; }  // n_vocab x n_embd
    const std::vector<double> &output_norm() const { return output_norm_; }
    const std::vector<double> &lm_head() const { return tied_ ? token_embedding_ : lm_head_; }
    bool tied_embedding() const { return tied_; }

private:
    HyperParameters hparams_;
    std::vector<double> token_embedding_;
    std::vector<double> output_norm_;
    std::vector<double> lm_head_;  // empty when tied
    bool tied_ = false;
    std::vector<Layer> layers_;
};

// ---------------------------------------------------------------------------------------------
// Building blocks, exposed for per-operation tests

// Per-token absmax int8 quantization. Writes the codes and returns the multiplier
// s = 127 / max(max|x|, 1e-5), so that x ~= codes / s.
double quantize_activations(const std::vector<double> &input, std::vector<int8_t> *codes);

// y = W input. BitLinear weights quantize the input first when `quantize_activations` is true;
// dense weights never do.
std::vector<double> matmul(const Weight &weight, const std::vector<double> &input, bool quantize_activations);
std::vector<double> project(const Model &model, int layer, Projection which, const std::vector<double> &input,
                            bool quantize_activations);

std::vector<double> rms_norm(const std::vector<double> &input, const std::vector<double> &weight, double eps);
// Rotate `n_heads` heads of `head_dim` values each, for token position `position`.
void apply_rope(std::vector<double> &heads, int n_heads, const HyperParameters &hparams, int position);

// ---------------------------------------------------------------------------------------------
// The forward pass

struct Options {
    bool quantize_activations = true;  // int8 activations at every BitLinear input (BitNet's A8)
    bool kv_f16 = false;               // round K (after RoPE) and V to binary16 as they are cached
};

// Token-by-token decoding with a KV cache.
class Decoder {
public:
    Decoder(const Model &model, const Options &options);

    // Feed the token at the next position; returns the logits (n_vocab) predicting the one after.
    std::vector<double> step(int token);
    int position() const { return position_; }
    // The residual stream after each layer, and the final normed hidden state, of the last step.
    const std::vector<std::vector<double>> &layer_outputs() const { return layer_outputs_; }
    const std::vector<double> &final_hidden() const { return final_hidden_; }

private:
    std::vector<double> attention(int layer, const std::vector<double> &queries) const;

    const Model &model_;
    Options options_;
    int position_ = 0;
    std::vector<std::vector<double>> keys_;    // per layer: position-major, n_head_kv * head_dim each
    std::vector<std::vector<double>> values_;
    std::vector<std::vector<double>> layer_outputs_;
    std::vector<double> final_hidden_;
};

// Logits for every position of `tokens`.
std::vector<std::vector<double>> forward(const Model &model, const std::vector<int> &tokens, const Options &options);

// Greedy decoding: feed `first_token`, then each argmax (lowest id on ties), `steps` times.
// Returns the chosen tokens; `logits`, when given, receives each step's logits.
std::vector<int> greedy(const Model &model, int first_token, int steps, const Options &options,
                        std::vector<std::vector<double>> *logits = nullptr);

}  // namespace bitnet_reference
