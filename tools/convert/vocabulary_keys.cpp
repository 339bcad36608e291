// tokenizer_config.json and the GGUF tokenizer keys.
#include "convert/json_file.h"
#include "convert/vocabulary.h"
#include "util/error.h"

namespace bitnet::convert {

void apply_tokenizer_config(const std::string &path, Vocabulary &vocab) {
    if (!file_exists(path)) return;
    const JsonFile file = read_json_file(path);
    if (auto add_bos = file.optional_bool("add_bos_token")) vocab.add_bos = add_bos;
    if (auto add_eos = file.optional_bool("add_eos_token")) vocab.add_eos = add_eos;
    auto tmpl = file.root.find("chat_template");
    if (tmpl == file.root.end() || tmpl->is_null()) return;
    if (tmpl->is_string()) {
        vocab.chat_template = tmpl->get<std::string>();
        return;
    }
    // Newer files may list named templates: [{"name": "default", "template": "..."}, ...].
    if (tmpl->is_array()) {
        for (const nlohmann::json &entry : *tmpl) {
            if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
                entry["template"].is_string()) {
                vocab.chat_template = entry["template"].get<std::string>();
                return;
            }
        }
    }
    fail(BITNET_ERR_INVALID_MODEL, "%s: field 'chat_template' must be a string or a list with a \"default\" entry",
         path.c_str());
}

void write_add_bos_key(gguf::Writer &writer, const Vocabulary &vocab) {
    if (vocab.add_bos) writer.set_bool("tokenizer.ggml.add_bos_token", *vocab.add_bos);
}

void write_vocabulary_keys(gguf::Writer &writer, const Vocabulary &vocab) {
    writer.set_string("tokenizer.ggml.model", vocab.model);
    writer.set_string_array("tokenizer.ggml.tokens", vocab.tokens);
    writer.set_f32_array("tokenizer.ggml.scores", vocab.scores);
    writer.set_i32_array("tokenizer.ggml.token_type", vocab.token_types);
    if (vocab.model == "gpt2") writer.set_string_array("tokenizer.ggml.merges", vocab.merges);
    if (vocab.bos) writer.set_u32("tokenizer.ggml.bos_token_id", *vocab.bos);
    if (vocab.eos) writer.set_u32("tokenizer.ggml.eos_token_id", *vocab.eos);
    if (vocab.padding) writer.set_u32("tokenizer.ggml.padding_token_id", *vocab.padding);
    if (!vocab.chat_template.empty()) writer.set_string("tokenizer.chat_template", vocab.chat_template);
    if (!vocab.pre.empty()) writer.set_string("tokenizer.ggml.pre", vocab.pre);
    if (vocab.unknown) writer.set_u32("tokenizer.ggml.unknown_token_id", *vocab.unknown);
    if (vocab.add_eos) writer.set_bool("tokenizer.ggml.add_eos_token", *vocab.add_eos);
}

}  // namespace bitnet::convert
