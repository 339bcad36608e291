// The reference forward pass in double precision. See reference.h for the equations.
#include "reference/reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace bitnet_reference {

double quantize_activations(const std::vector<double> &input, std::vector<int8_t> *codes) {
    double absolute_max = 1e-5;
    for (double value : input) absolute_max = std::max(absolute_max, std::fabs(value));
    const double scale = 127.0 / absolute_max;
    codes->resize(input.size());
    // nearbyint in the default rounding mode rounds half to even, like torch.round and the
    // engine's nearest_int.
    for (size_t i = 0; i < input.size(); ++i)
        (*codes)[i] = static_cast<int8_t>(std::clamp(std::nearbyint(input[i] * scale), -128.0, 127.0));
    return scale;
}

std::vector<double> matmul(const Weight &weight, const std::vector<double> &input, bool quantize) {
    if (input.size() != static_cast<size_t>(weight.cols))
        throw std::runtime_error("reference: matmul input has " + std::to_string(input.size()) + " values, expected " +
                                 std::to_string(weight.cols));
    std::vector<double> output(static_cast<size_t>(weight.rows), 0.0);
    if (!weight.bitlinear) {
        for (int row = 0; row < weight.rows; ++row) {
            const double *w = weight.dense.data() + static_cast<size_t>(row) * weight.cols;
            double sum = 0.0;
            for (int col = 0; col < weight.cols; ++col) sum += w[col] * input[col];
            output[row] = sum * weight.output_scale;
        }
        return output;
    }

    const TernaryTensor &ternary = weight.ternary;
    const int blocks_per_row = weight.cols / ternary.block;
    std::vector<int8_t> codes;
    const double activation_scale = quantize ? quantize_activations(input, &codes) : 1.0;
    for (int row = 0; row < weight.rows; ++row) {
        const int8_t *t = ternary.codes.data() + static_cast<size_t>(row) * weight.cols;
        double sum = 0.0;
        for (int block = 0; block < blocks_per_row; ++block) {
            const int begin = block * ternary.block, end = begin + ternary.block;
            double block_sum = 0.0;
            if (quantize) {
                int64_t integer_sum = 0;  // the exact integer dot of W1.58A8
                for (int col = begin; col < end; ++col) integer_sum += t[col] * codes[col];
                block_sum = static_cast<double>(integer_sum);
            } else {
                for (int col = begin; col < end; ++col) block_sum += t[col] * input[col];
            }
            sum += ternary.scales[static_cast<size_t>(row) * blocks_per_row + block] * block_sum;
        }
        output[row] = sum / activation_scale * weight.output_scale;
    }
    return output;
}

std::vector<double> project(const Model &model, int layer, Projection which, const std::vector<double> &input,
                            bool quantize) {
    return matmul(model.layer(layer).projection(which), input, quantize);
}

std::vector<double> rms_norm(const std::vector<double> &input, const std::vector<double> &weight, double eps) {
    double sum_of_squares = 0.0;
    for (double value : input) sum_of_squares += value * value;
    const double inverse_rms = 1.0 / std::sqrt(sum_of_squares / static_cast<double>(input.size()) + eps);
    std::vector<double> output(input.size());
    for (size_t i = 0; i < input.size(); ++i) output[i] = input[i] * inverse_rms * weight[i];
    return output;
}

void apply_rope(std::vector<double> &heads, int n_heads, const HyperParameters &hp, int position) {
    const int half = hp.n_rot / 2;
    for (int head = 0; head < n_heads; ++head) {
        double *v = heads.data() + static_cast<size_t>(head) * hp.head_dim;
        for (int i = 0; i < half; ++i) {
            const double theta = position * std::pow(hp.rope_base, -2.0 * i / hp.n_rot);
            const double cos_theta = std::cos(theta), sin_theta = std::sin(theta);
            // Neox rotates (i, i + n_rot/2); adjacent rotates (2i, 2i + 1). Dims >= n_rot stay.
            double &a = hp.rope_style == RopeStyle::Neox ? v[i] : v[2 * i];
            double &b = hp.rope_style == RopeStyle::Neox ? v[i + half] : v[2 * i + 1];
            const double a0 = a, b0 = b;
            a = a0 * cos_theta - b0 * sin_theta;
            b = a0 * sin_theta + b0 * cos_theta;
        }
    }
}

Decoder::Decoder(const Model &model, const Options &options)
    : model_(model), options_(options), keys_(model.hparams().n_layer), values_(model.hparams().n_layer) {}

// Causal attention of one token's query heads over every cached position; query head h reads
// key/value head h / (n_head / n_head_kv).
std::vector<double> Decoder::attention(int layer, const std::vector<double> &queries) const {
    const HyperParameters &hp = model_.hparams();
    const int group = hp.n_head / hp.n_head_kv, kv_width = hp.n_head_kv * hp.head_dim;
    const int n_positions = position_ + 1;
    const double inverse_sqrt_dim = 1.0 / std::sqrt(static_cast<double>(hp.head_dim));
    std::vector<double> output(static_cast<size_t>(hp.n_head) * hp.head_dim, 0.0);
    std::vector<double> scores(static_cast<size_t>(n_positions));
    for (int head = 0; head < hp.n_head; ++head) {
        const double *q = queries.data() + static_cast<size_t>(head) * hp.head_dim;
        const size_t kv_offset = static_cast<size_t>(head / group) * hp.head_dim;
        double max_score = -INFINITY;
        for (int p = 0; p < n_positions; ++p) {
            const double *k = keys_[layer].data() + static_cast<size_t>(p) * kv_width + kv_offset;
            double dot = 0.0;
            for (int d = 0; d < hp.head_dim; ++d) dot += q[d] * k[d];
            scores[p] = dot * inverse_sqrt_dim;
            max_score = std::max(max_score, scores[p]);
        }
        double total = 0.0;
        for (int p = 0; p < n_positions; ++p) total += scores[p] = std::exp(scores[p] - max_score);
        double *out = output.data() + static_cast<size_t>(head) * hp.head_dim;
        for (int p = 0; p < n_positions; ++p) {
            const double *v = values_[layer].data() + static_cast<size_t>(p) * kv_width + kv_offset;
            const double weight = scores[p] / total;
            for (int d = 0; d < hp.head_dim; ++d) out[d] += weight * v[d];
        }
    }
    return output;
}

std::vector<double> Decoder::step(int token) {
    const HyperParameters &hp = model_.hparams();
    if (token < 0 || token >= hp.n_vocab) throw std::runtime_error("reference: token id out of range");
    const bool quantize = options_.quantize_activations;
    const auto &embedding = model_.token_embedding();
    std::vector<double> x(embedding.begin() + static_cast<ptrdiff_t>(token) * hp.n_embd,
                          embedding.begin() + static_cast<ptrdiff_t>(token + 1) * hp.n_embd);
    layer_outputs_.clear();

    for (int l = 0; l < hp.n_layer; ++l) {
        const Layer &layer = model_.layer(l);
        std::vector<double> h = rms_norm(x, layer.attn_norm, hp.rms_eps);
        std::vector<double> q = matmul(layer.projection(Projection::Q), h, quantize);
        std::vector<double> k = matmul(layer.projection(Projection::K), h, quantize);
        std::vector<double> v = matmul(layer.projection(Projection::V), h, quantize);
        apply_rope(q, hp.n_head, hp, position_);
        apply_rope(k, hp.n_head_kv, hp, position_);
        if (options_.kv_f16) {
            for (double &value : k) value = round_to_half(value);
            for (double &value : v) value = round_to_half(value);
        }
        keys_[l].insert(keys_[l].end(), k.begin(), k.end());
        values_[l].insert(values_[l].end(), v.begin(), v.end());

        std::vector<double> a = attention(l, q);
        if (hp.sub_norms) a = rms_norm(a, layer.attn_sub_norm, hp.rms_eps);
        const std::vector<double> attention_out = matmul(layer.projection(Projection::AttentionOutput), a, quantize);
        for (int i = 0; i < hp.n_embd; ++i) x[i] += attention_out[i];

        h = rms_norm(x, layer.ffn_norm, hp.rms_eps);
        std::vector<double> f = matmul(layer.projection(Projection::Gate), h, quantize);
        const std::vector<double> up = matmul(layer.projection(Projection::Up), h, quantize);
        for (int i = 0; i < hp.n_ff; ++i) {
            const double g = f[i];
            const double activated = hp.activation == FfnActivation::Silu ? g / (1.0 + std::exp(-g))
                                                                          : (g > 0.0 ? g * g : 0.0);
            f[i] = activated * up[i];
        }
        if (hp.sub_norms) f = rms_norm(f, layer.ffn_sub_norm, hp.rms_eps);
        const std::vector<double> down = matmul(layer.projection(Projection::Down), f, quantize);
        for (int i = 0; i < hp.n_embd; ++i) x[i] += down[i];
        layer_outputs_.push_back(x);
    }

    final_hidden_ = rms_norm(x, model_.output_norm(), hp.rms_eps);
    const std::vector<double> &lm_head = model_.lm_head();
    std::vector<double> logits(static_cast<size_t>(hp.n_vocab));
    for (int token_id = 0; token_id < hp.n_vocab; ++token_id) {
        const double *row = lm_head.data() + static_cast<size_t>(token_id) * hp.n_embd;
        double sum = 0.0;
        for (int i = 0; i < hp.n_embd; ++i) sum += row[i] * final_hidden_[i];
        logits[token_id] = sum;
    }
    ++position_;
    return logits;
}

std::vector<std::vector<double>> forward(const Model &model, const std::vector<int> &tokens, const Options &options) {
    Decoder decoder(model, options);
    std::vector<std::vector<double>> logits;
    for (int token : tokens) logits.push_back(decoder.step(token));
    return logits;
}

std::vector<int> greedy(const Model &model, int first_token, int steps, const Options &options,
                        std::vector<std::vector<double>> *logits) {
    Decoder decoder(model, options);
    std::vector<int> chosen;
    int token = first_token;
    for (int s = 0; s < steps; ++s) {
        std::vector<double> step_logits = decoder.step(token);
        token = static_cast<int>(std::max_element(step_logits.begin(), step_logits.end()) - step_logits.begin());
        chosen.push_back(token);
        if (logits) logits->push_back(std::move(step_logits));
    }
    return chosen;
}

}  // namespace bitnet_reference
