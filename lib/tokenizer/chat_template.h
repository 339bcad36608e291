// Built-in chat templates: a conversation rendered as the prompt text a model was trained on.
// Templates are chosen by name or recognised in the model's tokenizer.chat_template (a Jinja
// text that is matched by its marker strings, not executed).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bitnet {

enum class ChatTemplate {
    // BitNet b1.58 2B-4T (formats.md §3.5): <|begin_of_text|>System: ...<|eot_id|>User: ...<|eot_id|>Assistant: 
    BitNet,
    // Llama 3: <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n...<|eot_id|>
    Llama3,
    // Llama 2: <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s>
    Llama2,
    // Falcon 3: <|user|>\n...\n<|assistant|>\n
    Falcon3,
};

struct ChatMessage {
    std::string_view role;
    std::string_view content;
};

const char *chat_template_name(ChatTemplate chat_template);

// "bitnet", "llama3", "llama2" or "falcon3". Throws Error(BITNET_ERR_INVALID_ARGUMENT) naming an
// unknown name and listing the known ones.
ChatTemplate chat_template_from_name(std::string_view name);

// The built-in template a Jinja chat template text corresponds to, if any.
std::optional<ChatTemplate> detect_chat_template(std::string_view jinja);

// The prompt text. Where the model's own template starts with the BOS text (BitNet, Llama 3,
// Llama 2) so does the result: tokenize it with parse_special and without add_special.
// Throws Error(BITNET_ERR_INVALID_ARGUMENT) for a role the template cannot express.
std::string render_chat(ChatTemplate chat_template, std::span<const ChatMessage> messages, bool add_assistant_prompt);

}  // namespace bitnet
