// A tokenizer as GGUF keys (formats.md §4.1), written by the two tools that produce vocabularies
// from outside sources: `bitnet convert` (tokenizer.json or tokenizer.model, tools/convert) and
// `bitnet train` (the SentencePiece tokenizer it trains, tools/train).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace bitnet::gguf {

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

// A loaded SentencePiece model as a "llama" vocabulary: its pieces in id order with their scores,
// the types llama.cpp's SentencePiece conversion gives them, and the special ids it has (unk, BOS,
// EOS, pad; an id of -1 means none). Ids from the piece count up to `n_vocab` (an embedding wider
// than the tokenizer) become "[PAD<id>]" UNUSED tokens scored -1000. `n_vocab` must be at least the
// piece count. pre, add_bos/add_eos and the chat template are the caller's to set.
Vocabulary sentencepiece_vocabulary(const sentencepiece::SentencePieceProcessor &processor, int64_t n_vocab);

// The tokenizer keys. write_add_bos_key writes tokenizer.ggml.add_bos_token, which the official
// 2B-4T file stores among the model keys (§2.9 #10); write_vocabulary_keys the others, in the
// official order (§2.9 #14-#22), then the ones the official file lacks (pre, unknown id, add_eos).
void write_add_bos_key(Writer &writer, const Vocabulary &vocab);
void write_vocabulary_keys(Writer &writer, const Vocabulary &vocab);

}  // namespace bitnet::gguf
