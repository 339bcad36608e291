// C API: chat templates.
#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "api/guard.h"
#include "bitnet.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"

namespace {

using bitnet::require_argument;

template <class Body>
int32_t count_guard(const char *function, Body &&body) noexcept {
    int32_t result = BITNET_COUNT_ERROR;
    bitnet_status status = bitnet::api_guard(function, [&] { result = body(); });
    return status == BITNET_OK ? result : BITNET_COUNT_ERROR;
}

// The template the model asks for: recognised in tokenizer.chat_template, or BitNet for the
// 2B-4T architectures when the file carries none.
bitnet::ChatTemplate template_of_model(const bitnet_model &model, const char *function) {
    std::string_view jinja = model.file.get_string("tokenizer.chat_template").value_or("");
    if (!jinja.empty()) {
        if (std::optional<bitnet::ChatTemplate> detected = bitnet::detect_chat_template(jinja)) return *detected;
        std::string opening(jinja.substr(0, 80));
        bitnet::fail(BITNET_ERR_UNSUPPORTED,
                     "%s: the model's chat template is none of the built-in ones (bitnet, llama3, llama2, falcon3); "
                     "pass one of those names. Its tokenizer.chat_template begins: \"%s%s\"",
                     function, opening.c_str(), jinja.size() > 80 ? "..." : "");
    }
    if (model.architecture_name == "bitnet-b1.58" || model.architecture_name == "bitnet-25") return bitnet::ChatTemplate::BitNet;
    bitnet::fail(BITNET_ERR_INVALID_ARGUMENT,
                 "%s: the model has no tokenizer.chat_template; pass a template name (bitnet, llama3, llama2, falcon3)",
                 function);
}

}  // namespace

extern "C" {

BITNET_API int32_t bitnet_chat_apply_template(const bitnet_model *model, const char *template_name,
                                              const bitnet_chat_message *messages, size_t n_messages,
                                              bool add_assistant_prompt, char *buf, int32_t capacity) {
    return count_guard(__func__, [&, function = __func__] {
        require_argument(messages != nullptr || n_messages == 0, function, "messages is NULL");
        require_argument(capacity >= 0, function, "capacity is negative");
        require_argument(buf != nullptr || capacity == 0, function, "buf is NULL but capacity > 0");
        bitnet::ChatTemplate chat_template;
        if (template_name) {
            chat_template = bitnet::chat_template_from_name(template_name);
        } else {
            require_argument(model != nullptr, function, "model is NULL and no template name was given");
            chat_template = template_of_model(*model, function);
        }
        std::vector<bitnet::ChatMessage> conversation;
        conversation.reserve(n_messages);
        for (size_t i = 0; i < n_messages; ++i) {
            if (!messages[i].role || !messages[i].content) {
                bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: messages[%zu] has a NULL %s", function, i,
                             messages[i].role ? "content" : "role");
            }
            conversation.push_back({messages[i].role, messages[i].content});
        }
        std::string text = bitnet::render_chat(chat_template, conversation, add_assistant_prompt);
        if (text.size() >= static_cast<size_t>(INT32_MAX)) {
            bitnet::fail(BITNET_ERR_INVALID_ARGUMENT, "%s: the rendered conversation is larger than 2 GiB", function);
        }
        int32_t needed = static_cast<int32_t>(text.size()) + 1;
        if (capacity < needed) return -needed;
        std::copy(text.begin(), text.end(), buf);
        buf[text.size()] = '\0';
        return static_cast<int32_t>(text.size());
    });
}

}  // extern "C"
