// The Vocabulary of a SentencePiece model (gguf/vocabulary_keys.h), for bitnet convert
// (tokenizer.model) and bitnet train (the trained tokenizer). Its own file because it needs
// libsentencepiece, which a build without train and convert (the Windows cross build, the static
// binary) does not have: tools/CMakeLists.txt compiles it only for those.
#include <sentencepiece_processor.h>

#include <algorithm>
#include <optional>
#include <string>

#include "gguf/vocabulary_keys.h"

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

}  // namespace bitnet::gguf
