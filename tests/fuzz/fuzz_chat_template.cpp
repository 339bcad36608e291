// Fuzz target: chat templates. Input: one mode byte, then text.
//   bit 4 clear: a conversation rendered with a built-in template. The text is split at NUL bytes
//     into role, content, role, content, ...; bits 0-1 pick "bitnet", "llama3", "llama2" or
//     "falcon3", or with bit 3 the template of the Llama 3 vocabulary fixture's model (name NULL);
//     bit 2 is add_assistant_prompt.
//   bit 4 set: the text is a model's tokenizer.chat_template (Jinja), given to the recogniser
//     (bitnet::detect_chat_template, called directly: building a GGUF per input would cost more
//     than the recogniser itself), and a recognised template renders a fixed conversation.
// Asserted, from bitnet.h: the -needed size is what the second call writes, NUL-terminated; the
// Llama 3 template carries every message's content (trimmed, as its Jinja source does).
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "tokenizer/chat_template.h"

namespace {

constexpr const char *kNames[4] = {"bitnet", "llama3", "llama2", "falcon3"};
constexpr uint8_t kModelTemplate = 8, kJinja = 16;

const bitnet_model *llama3_vocabulary() {
    static bitnet_model *model = bitnet_fuzz::load_fixture_vocab("vocab/ggml-vocab-llama3-bpe.gguf");
    return model;
}

void render(const bitnet_model *model, const char *name, const std::vector<bitnet_chat_message> &messages,
            bool add_assistant_prompt) {
    const int32_t n = bitnet_chat_apply_template(model, name, messages.data(), messages.size(), add_assistant_prompt,
                                                 nullptr, 0);
    if (n == BITNET_COUNT_ERROR) {
        FUZZ_ASSERT(bitnet_last_error()[0] != '\0', "chat template failed without a message");
        return;
    }
    FUZZ_ASSERT(n < 0, "a size query with capacity 0 returned %d instead of -needed", n);
    std::vector<char> buf(static_cast<size_t>(-n));
    const int32_t length = bitnet_chat_apply_template(model, name, messages.data(), messages.size(),
                                                      add_assistant_prompt, buf.data(), -n);
    FUZZ_ASSERT(length == -n - 1, "asked for %d bytes, then wrote %d", -n, length);
    FUZZ_ASSERT(buf[static_cast<size_t>(length)] == '\0', "output not NUL-terminated");
    if (name && std::strcmp(name, "llama3") == 0) {
        const std::string_view text(buf.data(), static_cast<size_t>(length));
        // Content is trimmed of Jinja's whitespace (" \t\n\r\f\v"), as the Llama 3 template's `| trim`.
        constexpr std::string_view kSpaces = " \t\n\r\f\v";
        for (const bitnet_chat_message &message : messages) {
            std::string_view content = message.content;
            content.remove_prefix(std::min(content.size(), content.find_first_not_of(kSpaces)));
            content = content.substr(0, content.find_last_not_of(kSpaces) + 1);
            FUZZ_ASSERT(text.find(content) != std::string_view::npos, "llama3 dropped a message's content");
        }
    }
}

}  // namespace

namespace bitnet_fuzz {

void prepare() { (void)llama3_vocabulary(); }

void write_seeds(SeedWriter &seeds) {
    using namespace std::string_literals;
    const std::string conversation = "system\0You are helpful.\0user\0Hi there!\0assistant\0 Hello \0user\0Bye"s;
    for (uint8_t mode = 0; mode < 16; ++mode) {
        seeds.add("conversation-" + std::to_string(mode), std::string(1, static_cast<char>(mode)) + conversation);
    }
    seeds.add("bad-role", "\x01tool\0{}"s);
    // Template texts shaped like the real ones, with the markers the recogniser looks for.
    const char *const jinja[] = {
        "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
        "message['content'] | trim + '<|eot_id|>' }}{% endfor %}",
        "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + "
        "'\\n\\nBITNETAssistant: ' + eos_token }}{% endif %}{% endfor %}",
        "{{ message['role'] | capitalize + ': ' + message['content'] + '<|eot_id|>' }}{{ 'Assistant: ' }}",
        "{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}",
        "{{ '<|user|>\\n' + message['content'] + '\\n<|assistant|>\\n' }}",
        "{{ '<|user|>\\n' + message['content'] + '<|end|>\\n<|assistant|>\\n' }}",
        "  llama3\n",
    };
    int index = 0;
    for (const char *text : jinja) seeds.add("jinja-" + std::to_string(index++), std::string(1, kJinja) + text);
}

}  // namespace bitnet_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bitnet_fuzz::InputReader input(data, size);
    const uint8_t mode = input.byte();
    const bool add_assistant_prompt = mode & 4;
    std::vector<bitnet_chat_message> messages;
    std::vector<std::string> texts;

    if (mode & kJinja) {
        const std::optional<bitnet::ChatTemplate> detected = bitnet::detect_chat_template(input.rest());
        if (!detected) return 0;
        messages = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}};
        render(nullptr, bitnet::chat_template_name(*detected), messages, add_assistant_prompt);
        return 0;
    }
    while (!input.empty()) texts.emplace_back(input.until(0));
    if (texts.size() % 2) texts.emplace_back();  // a role without content gets an empty one
    for (size_t i = 0; i < texts.size(); i += 2) messages.push_back({texts[i].c_str(), texts[i + 1].c_str()});
    if (mode & kModelTemplate) {
        if (const bitnet_model *model = llama3_vocabulary()) render(model, nullptr, messages, add_assistant_prompt);
    } else {
        render(nullptr, kNames[mode & 3], messages, add_assistant_prompt);
    }
    return 0;
}
