#include "gguf/vocabulary_keys.h"

#include <algorithm>

#include <sentencepiece_processor.h>

namespace bitnet::gguf {

Vocabulary sentencepiece_vocabulary(const sentencepiece::SentencePieceProcessor &processor, int64_t n_vocab) {
    const int n_pieces = processor.GetPieceSize();
    Vocabulary vocab;
    vocab.model = "llama";
    vocab.tokens.reserve(static_cast<size_t>(std::max<int64_t>(n_vocab, n_pieces)));
    for (int id = 0; id < n_pieces; ++id) {
        vocab.tokens.push_back(processor.IdToPiece(id));
        vocab.scores.push_back(processor.GetScore(id));
        // The same classification as llama.cpp's SentencePiece conversion (formats.md §4.1 types).
        int32_t type = kNormal;
        if (processor.IsUnknown(id)) type = kUnknown;
        else if (processor.IsControl(id)) type = kControl;
        else if (processor.IsUnused(id)) type = kUnused;
        else if (processor.IsByte(id)) type = kByte;
        vocab.token_types.push_back(type);
    }
    for (int64_t id = n_pieces; id < n_vocab; ++id) {  // embedding rows beyond the tokenizer
        vocab.tokens.push_back("[PAD" + std::to_string(id) + "]");
        vocab.scores.push_back(-1000.0f);
        vocab.token_types.push_back(kUnused);
    }
    auto optional_id = [](int id) { return id >= 0 ? std::optional<uint32_t>(static_cast<uint32_t>(id)) : std::nullopt; };
    vocab.bos = optional_id(processor.bos_id());
    vocab.eos = optional_id(processor.eos_id());
    vocab.unknown = optional_id(processor.unk_id());
    vocab.padding = optional_id(processor.pad_id());
    return vocab;
}

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
