#include "tokenizer/chat_template.h"

#include <string>

#include "util/error.h"

namespace bitnet {
namespace {

struct NamedTemplate {
    const char *name;
    ChatTemplate chat_template;
};
constexpr NamedTemplate kTemplates[] = {
    {"bitnet", ChatTemplate::BitNet},
    {"llama3", ChatTemplate::Llama3},
    {"llama2", ChatTemplate::Llama2},
    {"falcon3", ChatTemplate::Falcon3},
};

// Jinja's trim: leading and trailing whitespace off.
std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpaces = " \t\n\r\f\v";
    size_t first = text.find_first_not_of(kSpaces);
    if (first == std::string_view::npos) return {};
    size_t last = text.find_last_not_of(kSpaces);
    return text.substr(first, last - first + 1);
}

// Jinja's capitalize: the first character upper case, the rest lower case (ASCII letters).
std::string capitalize(std::string_view text) {
    std::string out(text);
    for (size_t i = 0; i < out.size(); ++i) {
        char c = out[i];
        if (i == 0 && c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 'a' + 'A');
        if (i > 0 && c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// Microsoft's ChatFormat for 2B-4T: every message, the system one included, ends with <|eot_id|>.
std::string render_bitnet(std::span<const ChatMessage> messages, bool add_assistant_prompt) {
    std::string out = "<|begin_of_text|>";
    for (const ChatMessage &message : messages) {
        out.append(capitalize(message.role)).append(": ").append(trim(message.content)).append("<|eot_id|>");
    }
    if (add_assistant_prompt) out.append("Assistant: ");
    return out;
}

std::string render_llama3(std::span<const ChatMessage> messages, bool add_assistant_prompt) {
    std::string out = "<|begin_of_text|>";
    for (const ChatMessage &message : messages) {
        out.append("<|start_header_id|>").append(message.role).append("<|end_header_id|>\n\n");
        out.append(trim(message.content)).append("<|eot_id|>");
    }
    if (add_assistant_prompt) out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
    return out;
}

// Meta's Llama 2 chat format: a system message goes inside the next user turn; the prompt for
// the assistant is the " [/INST]" that closes every user turn, so add_assistant_prompt adds nothing.
std::string render_llama2(std::span<const ChatMessage> messages) {
    std::string out;
    std::string system;
    bool pending_system = false;
    auto user_turn = [&](std::string_view content) {
        std::string text = pending_system ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + std::string(content) : std::string(content);
        out.append("<s>[INST] ").append(trim(text)).append(" [/INST]");
        pending_system = false;
    };
    for (const ChatMessage &message : messages) {
        if (message.role == "system") {
            system = std::string(message.content);
            pending_system = true;
        } else if (message.role == "user") {
            user_turn(message.content);
        } else if (message.role == "assistant") {
            out.append(" ").append(trim(message.content)).append(" </s>");
        } else {
            fail(BITNET_ERR_INVALID_ARGUMENT, "chat template llama2: role '%.*s' is not system, user or assistant",
                 static_cast<int>(message.role.size()), message.role.data());
        }
    }
    if (pending_system) user_turn("");
    return out;
}

std::string render_falcon3(std::span<const ChatMessage> messages, bool add_assistant_prompt) {
    std::string out;
    for (const ChatMessage &message : messages) {
        out.append("<|").append(message.role).append("|>\n").append(message.content).append("\n");
    }
    if (add_assistant_prompt) out.append("<|assistant|>\n");
    return out;
}

}  // namespace

const char *chat_template_name(ChatTemplate chat_template) {
    for (const NamedTemplate &entry : kTemplates) {
        if (entry.chat_template == chat_template) return entry.name;
    }
    return "?";
}

ChatTemplate chat_template_from_name(std::string_view name) {
    for (const NamedTemplate &entry : kTemplates) {
        if (name == entry.name) return entry.chat_template;
    }
    fail(BITNET_ERR_INVALID_ARGUMENT, "unknown chat template '%.*s' (known: bitnet, llama3, llama2, falcon3)",
         static_cast<int>(name.size()), name.data());
}

std::optional<ChatTemplate> detect_chat_template(std::string_view jinja) {
    for (const NamedTemplate &entry : kTemplates) {
        if (trim(jinja) == entry.name) return entry.chat_template;
    }
    if (contains(jinja, "<|start_header_id|>") && contains(jinja, "<|end_header_id|>")) return ChatTemplate::Llama3;
    // bitnet.cpp keys on "BITNET" (the official GGUF's template); the Hugging Face template is
    // "Role: content<|eot_id|>" with an "Assistant: " generation prompt.
    if (contains(jinja, "BITNET")) return ChatTemplate::BitNet;
    if (contains(jinja, "<|eot_id|>") && contains(jinja, "Assistant: ")) return ChatTemplate::BitNet;
    if (contains(jinja, "[INST]")) return ChatTemplate::Llama2;
    // Phi 3 uses the same role markers but closes turns with <|end|>.
    if (contains(jinja, "<|assistant|>") && contains(jinja, "<|user|>") && !contains(jinja, "<|end|>")) {
        return ChatTemplate::Falcon3;
    }
    return std::nullopt;
}

std::string render_chat(ChatTemplate chat_template, std::span<const ChatMessage> messages, bool add_assistant_prompt) {
    switch (chat_template) {
    case ChatTemplate::BitNet: return render_bitnet(messages, add_assistant_prompt);
    case ChatTemplate::Llama3: return render_llama3(messages, add_assistant_prompt);
    case ChatTemplate::Llama2: return render_llama2(messages);
    case ChatTemplate::Falcon3: return render_falcon3(messages, add_assistant_prompt);
    }
    fail(BITNET_ERR_INTERNAL, "render_chat: unhandled template");
}

}  // namespace bitnet
