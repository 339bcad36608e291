// The tokenizer of a checkpoint as GGUF keys (formats.md §4.1): read from tokenizer.json (byte-level
// BPE) or from a SentencePiece tokenizer.model, plus tokenizer_config.json (chat template, BOS/EOS
// flags) and the special ids of config.json / generation_config.json.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/vocabulary_keys.h"

namespace bitnet::convert {

// The vocabulary record, the SentencePiece reading and the key writer are shared with `bitnet
// train` (gguf/vocabulary_keys.h).
using gguf::Vocabulary;

// tokenizer.json: model.type "BPE", model.vocab, model.merges ("a b" strings or ["a", "b"] pairs),
// added_tokens (special -> CONTROL, others USER_DEFINED). Ids missing below `n_vocab` (the
// embedding size) become "[PAD<id>]" UNUSED tokens. Throws naming the file and field.
Vocabulary read_tokenizer_json(const std::string &path, int64_t n_vocab);
// tokenizer.model through libsentencepiece (gguf::sentencepiece_vocabulary), checked against n_vocab.
Vocabulary read_sentencepiece_model(const std::string &path, int64_t n_vocab);

// tokenizer_config.json (optional): chat_template, add_bos_token, add_eos_token.
void apply_tokenizer_config(const std::string &path, Vocabulary &vocab);

}  // namespace bitnet::convert
