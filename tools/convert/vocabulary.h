// The tokenizer of a checkpoint as GGUF keys (formats.md §4.1): read from tokenizer.json (byte-level
// BPE) or from a SentencePiece tokenizer.model, plus tokenizer_config.json (chat template, BOS/EOS
// flags) and the special ids of config.json / generation_config.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"

namespace bitnet::convert {

// llama.cpp token types (formats.md §4.1).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Vocabulary {
    std::string model;                 // tokenizer.ggml.model: "gpt2" (BPE) or "llama" (SentencePiece)
    std::string pre;                   // tokenizer.ggml.pre; "" = not written
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> token_types;
    std::vector<std::string> merges;   // "left right", BPE only
    std::optional<uint32_t> bos, eos, unknown, padding;
    std::optional<bool> add_bos, add_eos;
    std::string chat_template;         // "" = not written
};

// tokenizer.json: model.type "BPE", model.vocab, model.merges ("a b" strings or ["a", "b"] pairs),
// added_tokens (special -> CONTROL, others USER_DEFINED). Ids missing below `n_vocab` (the
// embedding size) become "[PAD<id>]" UNUSED tokens. Throws naming the file and field.
Vocabulary read_tokenizer_json(const std::string &path, int64_t n_vocab);
// tokenizer.model through libsentencepiece (pieces, scores, types, special ids).
Vocabulary read_sentencepiece_model(const std::string &path, int64_t n_vocab);

// tokenizer_config.json (optional): chat_template, add_bos_token, add_eos_token.
void apply_tokenizer_config(const std::string &path, Vocabulary &vocab);

// The tokenizer keys. write_add_bos_key writes tokenizer.ggml.add_bos_token, which the official
// 2B-4T file stores among the model keys (§2.9 #10); write_vocabulary_keys the others, in the
// official order (§2.9 #14-#22), then the ones the official file lacks (pre, unknown id, add_eos).
void write_add_bos_key(gguf::Writer &writer, const Vocabulary &vocab);
void write_vocabulary_keys(gguf::Writer &writer, const Vocabulary &vocab);

}  // namespace bitnet::convert
