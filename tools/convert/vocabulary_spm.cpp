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
    Vocabulary vocab = gguf::sentencepiece_vocabulary(processor, n_vocab);
    vocab.pre = "default";
    vocab.add_bos = true;  // Llama 2 convention; tokenizer_config.json may override
    vocab.add_eos = false;
    return vocab;
}

}  // namespace bitnet::convert
