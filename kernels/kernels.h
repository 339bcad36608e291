// CPU compute kernels. Every kernel has a scalar version (kernels/scalar/) that is the
// specification; ISA variants (kernels/avx2/, kernels/avx512/, kernels/neon/) must equal it exactly
// in integer parts and within 1e-6 relative in float parts. One table per variant; the best one
// the CPU supports is chosen once (BITNET_ISA=scalar|avx2|avx512|neon|neon_dotprod forces one).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/tensor_type.h"

namespace bitnet {

// Per-token int8 activations (formats.md §2.4): codes padded with zeros to a multiple of 128,
// the quantization scale s_x = 127 / max(|x|, 1e-5) and the sum of the codes.
struct QuantizedRow {
    const int8_t *codes;
    float scale;
    int32_t sum;
};

// int8 activations for the quantized lm_head (gemm_head_a8): one quantization per token row, in
// blocks of kHeadActBlock values, each with its own float scale (the Q8_0 rule of formats.md §1.6
// applied to activations, as llama.cpp's vec_dot for Q4_0/Q8_0 quantizes them, but the scale is
// kept in float): for block b, amax = max |x_i|, scales[b] = amax / 127, codes_i =
// round_half_even(x_i * (127 / amax)) in [-127, 127]; a block of zeros has scale 0 and codes 0.
inline constexpr int64_t kHeadActBlock = 32;
struct HeadActivations {
    const int8_t *codes;  // n_cols codes
    const float *scales;  // n_cols / kHeadActBlock scales
};
// dot_f32's number of double partial sums (KernelTable::dot_f32).
inline constexpr int kDotF32Partials = 8;

// x[0..n) -> codes[0..n), scales[0..n / kHeadActBlock); n a multiple of kHeadActBlock. Plain
// scalar code for every ISA (n_embd values per output token: a negligible share of the head).
void quantize_head_activations(const float *x, int64_t n, int8_t *codes, float *scales);

struct KernelTable {
    const char *name;  // "scalar", "avx2", "avx512", "neon"

    // x[0..n) -> codes[0..n_padded) (zeros after n), *scale = 127 / max(max|x|, 1e-5) computed in
    // float, codes = clamp(round_half_even(x * scale), -128, 127), *sum = Σ codes.
    void (*quantize_activations)(const float *x, int64_t n, int64_t n_padded, int8_t *codes, float *scale,
                                 int32_t *sum);

    // Ternary weight rows times int8 activations, one gemm per storage layout, indexed by
    // TernaryLayout (gemm_ternary[static_cast<size_t>(tensor_type_traits(type).ternary_layout)]). For rows
    // [0, n_rows) of a weight whose row r starts at weights + r * row_bytes, against n_tokens
    // activation rows (activations[t].codes holds n_cols codes, n_cols a multiple of the layout's
    // block), writes
    //   out[t * out_stride + r] = Σ_i w_ri * q_ti / activations[t].scale * weight_scale
    // where w_ri is the ternary value (I2_S: per-tensor scale folded into weight_scale; TQ2_0 and
    // TQ1_0: the block's f16 scale d multiplies each block's integer dot).
    // Exact rules, which every variant follows operation for operation (so outputs are bitwise
    // equal across variants): ternary = code - 1 (a stray code 3 counts as +2);
    //   I2_S:       (float)(Σ_i code_ri * q_ti - activations[t].sum) / scale * weight_scale, int32;
    //   TQ2_0/TQ1_0: acc = 0.0f; for each block b in order: acc = acc + d_b * (float)(int32 block
    //               dot); result acc / scale * weight_scale.
    // n_cols <= 2^21 (model dimensions are at most 2^20). No allocation, no threads: callers split
    // rows across threads. Pointers need no alignment. Never null in a table that cpu_kernels(),
    // cpu_kernels_named() or available_cpu_kernels() returns (see complete_kernel_table).
    using TernaryGemm = void (*)(const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                                 const QuantizedRow *activations, int64_t n_tokens, float weight_scale, float *out,
                                 int64_t out_stride);
    TernaryGemm gemm_ternary[kTernaryLayoutCount];

    // Σ a_i * b_i, the same bits on every ISA: the float-activation (analysis) projections' dot
    // (and the quantizer fallback types'), whose logits must not depend on the CPU (issue 19: ISA
    // variants that summed floats in their own orders made float-mode logits of a small synthetic
    // model differ by 4e-5 to 8e-5 rel_rms, every single reduction kernel alone by 1.5e-5 or more).
    // Exact rule: eight double partial sums, element i added to p[i % 8] in index order (each
    // product a_i * b_i is exact in double, so FMA or not gives the same partial), then
    //   (float)(((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7)))
    // (the tree of an 8-lane vector folded in halves). See kDotF32Partials.
    float (*dot_f32)(const float *a, const float *b, int64_t n);

    // Float-weight rows times float activations: the lm_head, and the projections of llama files
    // with float weights. Row r of the weight starts at weights + r * row_bytes and holds n_cols
    // values stored as `type` (F32, F16, BF16, Q8_0, Q4_0 or Q6_K: the types whose traits row has
    // float_kernel set, decoded as formats.md §1.6 and tensor/quantize.h say; the backends send every
    // other type through their row-dequantizing path instead). For each of n_tokens activation rows x[t] (n_cols floats):
    //   out[t * out_stride + r] = Σ_i w_ri * x[t][i]
    // in float, in any summation order: within 1e-6 of Σ |w_ri * x_ti| on well-spread data; float
    // summation error grows like sqrt(n_cols) * 2^-24 of that sum when terms span many binades
    // (tests/test_float_kernels.cpp checks both). n_cols is a multiple of the type's block. No
    // allocation, no threads.
    void (*gemm_float)(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                       const float *const *x, int64_t n_tokens, float *out, int64_t out_stride);

    // Attention of a block of n_queries query rows (the query heads that share one KV head, for
    // one or more batch entries) over cells of that KV head. Cell c's key (value) row of head_dim
    // elements, F16 or F32 as `f16` says, starts at keys + c * cell_stride (values + ...).
    //   attention_scores: scores[q * score_stride + j] = (Σ_i queries[q][i] * key(cells[j])[i]) * scale
    //                     for q < n_queries, j < n_cells;
    //   attention_values: out[q][i] += Σ_j weights[q * weight_stride + j] * value(cells[j])[i]
    //                     for q < n_queries, i < head_dim.
    // Each key and value row is converted once for the whole block. Float sums in any order
    // (checked within 1e-6 of the sum of magnitudes), but one fixed order per score and output
    // whatever other queries and cells share the call (batch invariance, issue 17 item 6). No
    // allocation beyond 32 KiB of stack.
    void (*attention_scores)(const float *const *queries, int32_t n_queries, const uint8_t *keys, size_t cell_stride,
                             bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim, float scale,
                             float *scores, int64_t score_stride);
    void (*attention_values)(const float *weights, int64_t weight_stride, int32_t n_queries, const uint8_t *values,
                             size_t cell_stride, bool f16, const int32_t *cells, int32_t n_cells, int32_t head_dim,
                             float *const *out);

    // y = x / sqrt(mean(x^2) + eps) * weight over n values (y may be x). The mean of squares is
    // summed in any order and precision (checked within 1e-6 relative).
    void (*rms_norm)(const float *x, const float *weight, int64_t n, float eps, float *y);
    // gate[i] = act(gate[i]) * up[i], act = relu(g)^2 when relu_squared, else silu(g) = g / (1 + e^-g)
    // (silu within 1e-6 relative of the scalar kernel's).
    void (*gated_activation)(float *gate, const float *up, int64_t n, bool relu_squared);
    // Unnormalized softmax in place: x[i] = e^(x[i] - max), returning Σ x[i]. Entries of -inf (masked
    // cells) become exactly 0; at least one entry must be finite. Within 1e-6 relative of the scalar
    // kernel's std::exp.
    float (*softmax)(float *x, int64_t n);

    // The quantized lm_head with int8 activations (issue 17: the head at the memory-bandwidth rate):
    // rows of a Q8_0, Q4_0 or Q6_K weight (formats.md §1.6; `type` is one of the three) times
    // n_tokens activation rows quantized by quantize_head_activations. For each 32-element group g
    // of a row (in order), with w_i the weight's integer codes (Q8_0: qs; Q4_0: nibble - 8; Q6_K:
    // the 6-bit code - 32) and q_i the activation codes:
    //   Q8_0, Q4_0: isum_g = Σ_i w_i q_i,            f_g = f16(d of block g) * scales[g]
    //   Q6_K:       isum_g = Σ_i sc[i / 16] w_i q_i,  f_g = f16(d of the super-block) * scales[g]
    //               (i counts within the 256-element super-block, sc its 16 int8 sub-block scales)
    //   out[t * out_stride + r] = Σ_g (float)isum_g * f_g
    // The integer sums are exact; the float sum over groups is in any fixed order that depends
    // neither on n_tokens nor on the row split (so a token's logits do not depend on the batch),
    // checked within 1e-6 of Σ_g |isum_g * f_g|. No allocation, no threads.
    void (*gemm_head_a8)(TensorType type, const uint8_t *weights, size_t row_bytes, int64_t n_rows, int64_t n_cols,
                         const HeadActivations *x, int64_t n_tokens, float *out, int64_t out_stride);
};

// The table for this CPU (selected once, thread-safe), or a named one for tests: returns null
// when `name` is unknown or the CPU cannot run it.
const KernelTable &cpu_kernels();
const KernelTable *cpu_kernels_named(const char *name);
// Every variant compiled in that this CPU can run, best last. Writes up to `capacity` of them to
// `out` and returns how many there are.
size_t available_cpu_kernels(const KernelTable **out, size_t capacity);
// The selection rule cpu_kernels() applies to $BITNET_ISA, exposed for tests: null, "" or "auto"
// give the best variant; a name this CPU can run gives that one; anything else logs a warning and
// gives the best.
const KernelTable &choose_cpu_kernels(const char *requested);

// The table of the float-activation (analysis) mode: `chosen` with the float kernels whose
// summation order is each ISA's own (attention, rms_norm, and the exp of softmax and SiLU) taken
// from the scalar table, so that float-mode logits are the same on every CPU (with dot_f32, which
// is ISA-independent by its rule, and gemm_float, which runs once per token at the very end:
// measured 4e-7 rel_rms across ISAs). The int8-activation mode keeps `chosen` whole.
KernelTable float_activation_kernels(const KernelTable &chosen);

// `partial` with every null slot taken from the scalar table: an ISA variant may leave out a
// kernel it has nothing better for (ggml's arch fallback). dispatch.cpp applies it once to each
// variant's table, so callers never see a null slot.
KernelTable complete_kernel_table(const KernelTable &partial);

// Per-variant tables, defined in kernels/<isa>/. Only dispatch.cpp calls the ISA ones, and only
// when the build has them (BITNET_HAVE_<ISA>_KERNELS) and the CPU can run them.
const KernelTable &scalar_kernels();
const KernelTable &avx2_kernels();
const KernelTable &avx512_kernels();

}  // namespace bitnet
