#include "gguf/vocabulary_keys.h"

#include <algorithm>

namespace bitnet::gguf {

void write_add_bos_key(Writer &writer, const Vocabulary &vocab) {
    if (vocab.add_bos) writer.set_bool("tokenizer.ggml.add_bos_token", *vocab.add_bos);
}

void write_vocabulary_keys(Writer &writer, const Vocabulary &vocab) {
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

}  // namespace bitnet::gguf
