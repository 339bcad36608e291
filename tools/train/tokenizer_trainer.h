// A SentencePiece BPE tokenizer trained on the training text (Debian libsentencepiece), kept as
// its serialized model so that checkpoints carry it, and exported as a `llama` (SPM) vocabulary:
// unk 0, BOS 1, EOS 2, the 256 byte-fallback tokens "<0x00>".."<0xFF>", then the merged pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/vocabulary_keys.h"

namespace bitnet::train {

class Tokenizer {
public:
    // Train on `text` (one sentence per line; empty lines skipped). Throws Error on failure, e.g.
    // a vocabulary size the text cannot fill.
    static Tokenizer train(const std::string &text, int vocab_size, int threads);
    // From a serialized SentencePiece model (as stored in a checkpoint). Throws Error if invalid.
    static Tokenizer from_model(const std::string &serialized_model);

    const std::string &serialized_model() const { return serialized_; }
    int size() const;
    // The whole text, newlines included (byte-fallback <0x0A>), in chunks split at line ends.
    std::vector<int32_t> encode(const std::string &text) const;
    std::string decode(const std::vector<int32_t> &ids) const;

    // The GGUF "llama" vocabulary (formats.md §4.1), made by the same function as `bitnet
    // convert`'s from a tokenizer.model (gguf::sentencepiece_vocabulary): BOS added, no pre key.
    gguf::Vocabulary vocabulary() const;
    int32_t bos() const;

private:
    std::string serialized_;
    std::shared_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace bitnet::train
