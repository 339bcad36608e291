// Chat templates: each built-in renderer's exact text, selection from the model's
// tokenizer.chat_template, the return convention and the errors that name what was wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "synth/synth.h"
#include "test_tokenizer_support.h"

namespace {

using namespace tokenizer_test;

const bitnet_chat_message kConversation[] = {
    {"system", "You are helpful."},
    {"user", "  Hi \n"},
    {"assistant", "Hello!"},
    {"user", "How are you?"},
};

// Render through the C API; returns "<error>" on failure.
std::string render(const bitnet_model *model, const char *name, const bitnet_chat_message *messages, size_t count,
                   bool add_assistant_prompt) {
    int32_t needed = bitnet_chat_apply_template(model, name, messages, count, add_assistant_prompt, nullptr, 0);
    if (needed == BITNET_COUNT_ERROR) return "<error>";
    EXPECT_LT(needed, 0);
    std::string buffer(static_cast<size_t>(-needed), 'x');
    int32_t written = bitnet_chat_apply_template(model, name, messages, count, add_assistant_prompt, buffer.data(),
                                                 static_cast<int32_t>(buffer.size()));
    EXPECT_EQ(written, -needed - 1);
    EXPECT_EQ(buffer.back(), '\0');
    buffer.pop_back();
    return buffer;
}

TEST(ChatTemplate, BitNetRendersMicrosoftChatFormat) {
    EXPECT_EQ(render(nullptr, "bitnet", kConversation, 4, true),
              "<|begin_of_text|>System: You are helpful.<|eot_id|>User: Hi<|eot_id|>Assistant: Hello!<|eot_id|>"
              "User: How are you?<|eot_id|>Assistant: ");
    EXPECT_EQ(render(nullptr, "bitnet", kConversation + 1, 1, false), "<|begin_of_text|>User: Hi<|eot_id|>");
}

TEST(ChatTemplate, Llama3RendersHeaderIds) {
    EXPECT_EQ(render(nullptr, "llama3", kConversation, 4, true),
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

// Meta's format strips the user turn after the system block is put in front of it, so the user
// text's own leading spaces stay (as in the Hugging Face template).
TEST(ChatTemplate, Llama2RendersInstBlocksWithTheSystemPromptInside) {
    EXPECT_EQ(render(nullptr, "llama2", kConversation, 4, true),
              "<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\n  Hi [/INST] Hello! </s><s>[INST] How are you? [/INST]");
    EXPECT_EQ(render(nullptr, "llama2", kConversation + 1, 1, true), "<s>[INST] Hi [/INST]");
    const bitnet_chat_message odd_role[] = {{"tool", "x"}};
    EXPECT_EQ(render(nullptr, "llama2", odd_role, 1, true), "<error>");
    EXPECT_NE(std::strstr(bitnet_last_error(), "'tool'"), nullptr) << bitnet_last_error();
}

TEST(ChatTemplate, Falcon3RendersRoleMarkers) {
    EXPECT_EQ(render(nullptr, "falcon3", kConversation, 4, true),
              "<|system|>\nYou are helpful.\n<|user|>\n  Hi \n\n<|assistant|>\nHello!\n<|user|>\nHow are you?\n<|assistant|>\n");
}

TEST(ChatTemplate, UnknownNameIsAnErrorThatNamesIt) {
    char buffer[64];
    EXPECT_EQ(bitnet_chat_apply_template(nullptr, "chatml", kConversation, 4, true, buffer, sizeof buffer), BITNET_COUNT_ERROR);
    EXPECT_NE(std::strstr(bitnet_last_error(), "unknown chat template 'chatml'"), nullptr) << bitnet_last_error();
}

TEST(ChatTemplate, ReturnConventionCountsTheTerminatingNul) {
    const std::string expected = "<|begin_of_text|>User: Hi<|eot_id|>Assistant: ";
    const int32_t length = static_cast<int32_t>(expected.size());
    std::string buffer(expected.size() + 1, 'x');
    EXPECT_EQ(bitnet_chat_apply_template(nullptr, "bitnet", kConversation + 1, 1, true, buffer.data(), length), -(length + 1));
    EXPECT_EQ(buffer[0], 'x') << "nothing is written when the text does not fit";
    EXPECT_EQ(bitnet_chat_apply_template(nullptr, "bitnet", kConversation + 1, 1, true, buffer.data(), length + 1), length);
    EXPECT_EQ(std::string(buffer.c_str()), expected);
    const bitnet_chat_message missing_content[] = {{"user", nullptr}};
    EXPECT_EQ(bitnet_chat_apply_template(nullptr, "bitnet", missing_content, 1, true, buffer.data(), length), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_chat_apply_template(nullptr, nullptr, kConversation, 1, true, buffer.data(), length), BITNET_COUNT_ERROR);
}

TEST(ChatTemplate, OfficialModelTemplateSelectsBitNetAndTokenizesWithSpecials) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama3-bpe.gguf");
    std::vector<uint8_t> fixture = bitnet_test::read_file(path);
    bitnet::gguf::File llama3 = bitnet::gguf::File::parse(fixture.data(), fixture.size());
    std::unique_ptr<MemoryModel> official = load_vocab_memory(official_2b4t_vocab_image(llama3, false));
    ASSERT_TRUE(official->model);
    const bitnet_model *model = official->model.get();

    std::string prompt = render(model, nullptr, kConversation + 1, 1, true);
    EXPECT_EQ(prompt, "<|begin_of_text|>User: Hi<|eot_id|>Assistant: ");
    std::vector<bitnet_token> tokens = tokenize(model, prompt, /*add_special=*/false, /*parse_special=*/true);
    ASSERT_GE(tokens.size(), 4u);
    EXPECT_EQ(tokens.front(), 128000);
    EXPECT_NE(std::find(tokens.begin(), tokens.end(), 128009), tokens.end());
    EXPECT_EQ(detokenize(model, tokens, false, true), prompt);
}

TEST(ChatTemplate, ModelWithoutOrWithUnknownTemplateNeedsAName) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama3-bpe.gguf");
    ModelPtr plain = load_vocab_file(path);  // arch llama, no tokenizer.chat_template
    ASSERT_TRUE(plain);
    EXPECT_EQ(render(plain.get(), nullptr, kConversation, 4, true), "<error>");
    EXPECT_NE(std::strstr(bitnet_last_error(), "no tokenizer.chat_template"), nullptr) << bitnet_last_error();
    EXPECT_NE(render(plain.get(), "llama3", kConversation, 4, true), "<error>");

    std::vector<uint8_t> fixture = bitnet_test::read_file(path);
    bitnet::gguf::File llama3 = bitnet::gguf::File::parse(fixture.data(), fixture.size());
    bitnet::gguf::Writer writer;
    for (const bitnet::gguf::MetadataEntry &entry : llama3.metadata()) writer.copy_value(entry.key, llama3, entry.value);
    writer.set_string("tokenizer.chat_template",
                      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                      "'<|im_end|>' + '\\n'}}{% endfor %}");
    std::unique_ptr<MemoryModel> chatml = load_vocab_memory(writer.write_to_memory());
    ASSERT_TRUE(chatml->model);
    EXPECT_EQ(render(chatml->model.get(), nullptr, kConversation, 4, true), "<error>");
    EXPECT_NE(std::strstr(bitnet_last_error(), "<|im_start|>"), nullptr) << "the message quotes the template: " << bitnet_last_error();
}

// A vocabulary-only model (the synthetic tiny model's metadata, no fixture needed) whose
// tokenizer.chat_template is `jinja`.
std::unique_ptr<MemoryModel> model_with_template(const std::string &jinja) {
    bitnet::SynthOptions options;
    options.shape = bitnet::synth_preset("tiny");
    std::vector<uint8_t> synthetic = bitnet::synthesize_model(options);
    bitnet::gguf::File file = bitnet::gguf::File::parse(synthetic.data(), synthetic.size());
    bitnet::gguf::Writer writer;
    for (const bitnet::gguf::MetadataEntry &entry : file.metadata()) {
        if (entry.key != "tokenizer.chat_template") writer.copy_value(entry.key, file, entry.value);
    }
    writer.set_string("tokenizer.chat_template", jinja);
    return load_vocab_memory(writer.write_to_memory());
}

// The chat templates as published with the models (Hugging Face tokenizer_config.json, JSON
// escapes decoded), which GGUF conversions copy into tokenizer.chat_template.
const char *const kLlama3Template =  // meta-llama/Meta-Llama-3-8B-Instruct
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
const char *const kLlama2Template =  // meta-llama/Llama-2-7b-chat-hf
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
const char *const kFalcon3Template =  // tiiuae/Falcon3-1B-Instruct (the part without tools)
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'assistant' %}{% if not loop.last %}"
    "{{ '<|assistant|>\n' + message['content'] + eos_token + '\n' }}{% else %}"
    "{{ '<|assistant|>\n' + message['content'] + eos_token }}{% endif %}{% endif %}"
    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{% endfor %}";
const char *const kBitNetHfTemplate =  // microsoft/bitnet-b1.58-2B-4T
    "{% for message in messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + "
    "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";
const char *const kPhi3Template =  // microsoft/Phi-3-mini-4k-instruct: Falcon 3's markers, but <|end|>
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + "
    "'<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";

TEST(ChatTemplate, ModelTemplatesAreDetectedAsTheirFamily) {
    const struct {
        const char *family;
        const char *jinja;
    } cases[] = {
        {"llama3", kLlama3Template}, {"llama2", kLlama2Template}, {"falcon3", kFalcon3Template},
        {"bitnet", kBitNetHfTemplate},
    };
    for (const auto &c : cases) {
        std::unique_ptr<MemoryModel> loaded = model_with_template(c.jinja);
        ASSERT_TRUE(loaded->model) << c.family;
        const std::string expected = render(nullptr, c.family, kConversation, 4, true);
        ASSERT_NE(expected, "<error>") << c.family;
        EXPECT_EQ(render(loaded->model.get(), nullptr, kConversation, 4, true), expected)
            << "the " << c.family << " template was not detected as " << c.family << ": " << bitnet_last_error();
        EXPECT_EQ(render(loaded->model.get(), nullptr, kConversation + 1, 1, false),
                  render(nullptr, c.family, kConversation + 1, 1, false)) << c.family;
    }
    // Each family renders differently, so the equalities above tell them apart.
    EXPECT_NE(render(nullptr, "llama3", kConversation, 4, true), render(nullptr, "bitnet", kConversation, 4, true));
    EXPECT_NE(render(nullptr, "llama2", kConversation, 4, true), render(nullptr, "falcon3", kConversation, 4, true));
}

TEST(ChatTemplate, Phi3TemplateIsNotTakenForFalcon3) {
    std::unique_ptr<MemoryModel> loaded = model_with_template(kPhi3Template);
    ASSERT_TRUE(loaded->model);
    EXPECT_EQ(render(loaded->model.get(), nullptr, kConversation, 4, true), "<error>");
    EXPECT_NE(std::strstr(bitnet_last_error(), "none of the built-in ones"), nullptr) << bitnet_last_error();
    EXPECT_NE(render(loaded->model.get(), "falcon3", kConversation, 4, true), "<error>") << "a name still works";
}

}  // namespace
