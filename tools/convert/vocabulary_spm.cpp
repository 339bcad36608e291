// tokenizer.model (a serialized SentencePiece ModelProto) -> "llama" vocabulary, read through
// libsentencepiece rather than by hand (issue 13 item 4).
#include <sentencepiece_processor.h>

#include "convert/vocabulary.h"
#include "util/error.h"

namespace bitnet::convert {

Vocabulary read_sentencepiece_model(const std::string &path, int64_t n_vocab) {
    sentencepiece::SentencePieceProcessor processor;
    const auto status = processor.Load(path);
    if (!status.ok()) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: libsentencepiece cannot load it: %s", path.c_str(), status.ToString().c_str());
    }
    const int n_pieces = processor.GetPieceSize();
    if (n_pieces <= 0 || n_pieces > n_vocab) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: %d pieces, expected 1..%lld (config.json vocab_size)", path.c_str(), n_pieces,
             static_cast<long long>(n_vocab));
    }
    Vocabulary vocab;
    vocab.model = "llama";
    vocab.pre = "default";
    vocab.tokens.reserve(static_cast<size_t>(n_vocab));
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
    vocab.add_bos = true;  // Llama 2 convention; tokenizer_config.json may override
    vocab.add_eos = false;
    return vocab;
}

}  // namespace bitnet::convert
