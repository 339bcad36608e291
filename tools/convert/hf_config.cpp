#include "convert/hf_config.h"

#include "util/error.h"

namespace bitnet::convert {
namespace {

void read_quantization(const JsonFile &config, HfConfig &hf) {
    auto qc = config.root.find("quantization_config");
    const bool has_qc = qc != config.root.end() && !qc->is_null();
    if (!has_qc) {
        if (hf.kind == CheckpointKind::MicrosoftBitNet) {
            fail(BITNET_ERR_INVALID_MODEL, "%s: field 'quantization_config' is missing (BitNetForCausalLM needs "
                 "quant_method \"bitnet\")", config.path.c_str());
        }
        return;
    }
    if (!qc->is_object()) fail(BITNET_ERR_INVALID_MODEL, "%s: field 'quantization_config' is not an object", config.path.c_str());
    auto method = qc->find("quant_method");
    if (method == qc->end() || !method->is_string() || method->get<std::string>() != "bitnet") {
        fail(BITNET_ERR_UNSUPPORTED, "%s: quantization_config.quant_method is %s; only \"bitnet\" is supported",
             config.path.c_str(), method == qc->end() ? "missing" : method->dump().c_str());
    }
    if (hf.kind == CheckpointKind::FloatLlama) hf.kind = CheckpointKind::TernaryLlama;
    if (hf.kind == CheckpointKind::OneBitLlm) {
        fail(BITNET_ERR_UNSUPPORTED, "%s: BitnetForCausalLM with a quantization_config is not a known checkpoint",
             config.path.c_str());
    }
    // The direction of weight_scale (formats.md §3.4, §6.5), from transformers:
    //  - utils/quantization_config.py BitNetQuantConfig: linear_class defaults to "bitlinear";
    //  - integrations/bitnet.py: "bitlinear" -> BitLinear, whose forward is
    //    F.linear(x_q, W_t) / (input_scale * weight_scale), so W = W_t / weight_scale;
    //    "autobitlinear" offline -> AutoBitLinear, output * weight_scale, so W = W_t * weight_scale.
    // HF1BitLLM/Llama3-8B-1.58-100B-tokens and tiiuae/Falcon3-*-1.58bit carry only
    // {"modules_to_not_convert": null, "quant_method": "bitnet"}: the default, so they divide. (Their
    // model cards load them with transformers PR #33410, the first BitNet integration, whose only
    // layer was that dividing BitLinear.)
    // tests/test_convert.cpp llama3_1_58_packed_no_linear_class checks this against the reference.
    auto linear_class = qc->find("linear_class");
    if (linear_class == qc->end() || linear_class->is_null()) {
        hf.weight_scale_divides = true;
    } else if (linear_class->is_string() && linear_class->get<std::string>() == "bitlinear") {
        hf.weight_scale_divides = true;
    } else if (linear_class->is_string() && linear_class->get<std::string>() == "autobitlinear") {
        hf.weight_scale_divides = false;
    } else {
        fail(BITNET_ERR_UNSUPPORTED, "%s: quantization_config.linear_class is %s; expected \"bitlinear\" or \"autobitlinear\"",
             config.path.c_str(), linear_class->dump().c_str());
    }
}

void check_positive(const HfConfig &hf, const char *field, int64_t value, int64_t max_value) {
    if (value <= 0 || value > max_value) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: field '%s' = %lld is out of range [1, %lld]", hf.path.c_str(), field,
             static_cast<long long>(value), static_cast<long long>(max_value));
    }
}

}  // namespace

std::optional<int64_t> read_token_id(const JsonFile &file, const char *field) {
    auto it = file.root.find(field);
    if (it == file.root.end() || it->is_null()) return std::nullopt;
    if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) return (*it)[0].get<int64_t>();
    return file.optional_int(field);
}

const char *checkpoint_kind_name(CheckpointKind kind) {
    switch (kind) {
        case CheckpointKind::MicrosoftBitNet: return "BitNetForCausalLM (Microsoft BitNet b1.58)";
        case CheckpointKind::OneBitLlm: return "BitnetForCausalLM (1bitLLM)";
        case CheckpointKind::TernaryLlama: return "LlamaForCausalLM with BitNet quantization";
        case CheckpointKind::FloatLlama: return "LlamaForCausalLM (float)";
    }
    return "?";
}

HfConfig read_hf_config(const JsonFile &config) {
    HfConfig hf;
    hf.path = config.path;
    auto archs = config.root.find("architectures");
    if (archs == config.root.end() || !archs->is_array() || archs->size() != 1 || !(*archs)[0].is_string()) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: field 'architectures' must be a list of one name", config.path.c_str());
    }
    hf.architecture = (*archs)[0].get<std::string>();
    if (hf.architecture == "BitNetForCausalLM") {
        hf.kind = CheckpointKind::MicrosoftBitNet;
    } else if (hf.architecture == "BitnetForCausalLM") {
        hf.kind = CheckpointKind::OneBitLlm;
    } else if (hf.architecture == "LlamaForCausalLM") {
        hf.kind = CheckpointKind::FloatLlama;
    } else {
        fail(BITNET_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (supported: BitNetForCausalLM, "
             "BitnetForCausalLM, LlamaForCausalLM)", config.path.c_str(), hf.architecture.c_str());
    }
    read_quantization(config, hf);

    hf.n_vocab = config.required_int("vocab_size");
    hf.n_embd = config.required_int("hidden_size");
    hf.n_layer = config.required_int("num_hidden_layers");
    hf.n_head = config.required_int("num_attention_heads");
    hf.n_head_kv = config.optional_int("num_key_value_heads").value_or(hf.n_head);
    hf.n_ff = config.required_int("intermediate_size");
    hf.n_ctx = config.optional_int("max_position_embeddings").value_or(2048);
    hf.rope_theta = config.optional_number("rope_theta").value_or(10000.0);
    hf.rms_eps = config.required_number("rms_norm_eps");
    hf.tied_embeddings = config.optional_bool("tie_word_embeddings").value_or(false);
    check_positive(hf, "vocab_size", hf.n_vocab, int64_t(1) << 24);
    check_positive(hf, "hidden_size", hf.n_embd, 1 << 20);
    check_positive(hf, "num_hidden_layers", hf.n_layer, 4096);
    check_positive(hf, "num_attention_heads", hf.n_head, 4096);
    check_positive(hf, "num_key_value_heads", hf.n_head_kv, 4096);
    check_positive(hf, "intermediate_size", hf.n_ff, 1 << 20);
    check_positive(hf, "max_position_embeddings", hf.n_ctx, int64_t(1) << 30);
    if (hf.n_embd % hf.n_head != 0 || hf.n_head % hf.n_head_kv != 0) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: hidden_size %lld, num_attention_heads %lld and num_key_value_heads %lld "
             "do not divide evenly", config.path.c_str(), static_cast<long long>(hf.n_embd),
             static_cast<long long>(hf.n_head), static_cast<long long>(hf.n_head_kv));
    }
    if (auto head_dim = config.optional_int("head_dim"); head_dim && *head_dim != hf.n_embd / hf.n_head) {
        fail(BITNET_ERR_UNSUPPORTED, "%s: head_dim %lld differs from hidden_size / num_attention_heads = %lld",
             config.path.c_str(), static_cast<long long>(*head_dim), static_cast<long long>(hf.n_embd / hf.n_head));
    }
    if (!(hf.rms_eps > 0.0 && hf.rms_eps < 1.0) || !(hf.rope_theta > 0.0)) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: rms_norm_eps must be in (0, 1) and rope_theta positive", config.path.c_str());
    }
    if (config.root.contains("rope_scaling") && !config.root["rope_scaling"].is_null()) {
        fail(BITNET_ERR_UNSUPPORTED, "%s: field 'rope_scaling' is set; RoPE scaling is not supported", config.path.c_str());
    }

    const std::string activation = config.optional_string("hidden_act").value_or("silu");
    if (activation == "relu2") {
        hf.activation = "relu2";
    } else if (activation == "silu" || activation == "swish") {
        hf.activation = "silu";
    } else {
        fail(BITNET_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported (relu2, silu)", config.path.c_str(),
             activation.c_str());
    }
    if (hf.kind == CheckpointKind::MicrosoftBitNet && hf.activation != "relu2") {
        fail(BITNET_ERR_UNSUPPORTED, "%s: BitNetForCausalLM with hidden_act '%s' (the official graph is relu2)",
             config.path.c_str(), activation.c_str());
    }
    hf.bos_token_id = read_token_id(config, "bos_token_id");
    hf.eos_token_id = read_token_id(config, "eos_token_id");
    hf.pad_token_id = read_token_id(config, "pad_token_id");
    return hf;
}

}  // namespace bitnet::convert
