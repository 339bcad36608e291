// tokenizer_config.json: the chat template and the BOS/EOS flags (the keys are written by
// gguf/vocabulary_keys.cpp).
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

}  // namespace bitnet::convert
