#include "train/tokenizer_trainer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <string_view>
#include <unordered_map>

#include "util/error.h"

namespace bitnet::train {
namespace {

// Feeds SentencePiece the non-empty lines of the text (it trains on sentences, one per line).
class LineIterator : public sentencepiece::SentenceIterator {
public:
    explicit LineIterator(const std::string &text) : text_(text) { Next(); }
    bool done() const override { return done_; }
    void Next() override {
        while (position_ < text_.size()) {
            size_t end = text_.find('\n', position_);
            if (end == std::string::npos) end = text_.size();
            line_.assign(text_, position_, end - position_);
            position_ = end + 1;
            if (!line_.empty()) return;
        }
        done_ = true;
    }
    const std::string &value() const override { return line_; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    const std::string &text_;
    size_t position_ = 0;
    std::string line_;
    bool done_ = false;
};

}  // namespace

Tokenizer Tokenizer::train(const std::string &text, int vocab_size, int threads) {
    if (vocab_size < 300) fail(BITNET_ERR_INVALID_ARGUMENT, "train: --vocab-size %d is too small (at least 300: 3 specials, 256 bytes, merges)", vocab_size);
    // Identity normalization and kept whitespace so that the engine's SPM tokenizer, which does
    // not normalize, splits prompts as the training text was split; byte fallback so that any
    // byte (newlines included) has a token.
    const std::unordered_map<std::string, std::string> arguments = {
        {"model_type", "bpe"},
        {"vocab_size", std::to_string(vocab_size)},
        {"byte_fallback", "true"},
        {"character_coverage", "0.9995"},
        {"normalization_rule_name", "identity"},
        {"remove_extra_whitespaces", "false"},
        {"split_digits", "true"},
        {"unk_id", "0"},
        {"bos_id", "1"},
        {"eos_id", "2"},
        {"pad_id", "-1"},
        {"max_sentence_length", "16384"},
        {"num_threads", std::to_string(threads > 0 ? threads : 1)},
        {"minloglevel", "2"},
    };
    LineIterator lines(text);
    Tokenizer tokenizer;
    const auto status = sentencepiece::SentencePieceTrainer::Train(arguments, &lines, &tokenizer.serialized_);
    if (!status.ok()) fail(BITNET_ERR_INVALID_ARGUMENT, "train: SentencePiece training failed: %s", status.ToString().c_str());
    return from_model(tokenizer.serialized_);
}

Tokenizer Tokenizer::from_model(const std::string &serialized_model) {
    Tokenizer tokenizer;
    tokenizer.serialized_ = serialized_model;
    tokenizer.processor_ = std::make_shared<sentencepiece::SentencePieceProcessor>();
    const auto status = tokenizer.processor_->LoadFromSerializedProto(serialized_model);
    if (!status.ok()) fail(BITNET_ERR_INVALID_MODEL, "train: the stored SentencePiece model is invalid: %s", status.ToString().c_str());
    return tokenizer;
}

int Tokenizer::size() const { return processor_->GetPieceSize(); }

std::vector<int32_t> Tokenizer::encode(const std::string &text) const {
    std::vector<int32_t> out;
    const size_t chunk = 1 << 16;
    for (size_t position = 0; position < text.size();) {
        size_t end = std::min(text.size(), position + chunk);
        if (end < text.size()) {
            const size_t newline = text.rfind('\n', end);
            if (newline != std::string::npos && newline > position) end = newline + 1;
        }
        std::vector<int> ids;
        const auto status = processor_->Encode(std::string_view(text).substr(position, end - position), &ids);
        if (!status.ok()) fail(BITNET_ERR_INVALID_ARGUMENT, "train: tokenizing failed: %s", status.ToString().c_str());
        out.insert(out.end(), ids.begin(), ids.end());
        position = end;
    }
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
    std::string text;
    processor_->Decode(std::vector<int>(ids.begin(), ids.end()), &text);
    return text;
}

gguf::Vocabulary Tokenizer::vocabulary() const {
    gguf::Vocabulary vocab = gguf::sentencepiece_vocabulary(*processor_, size());
    vocab.add_bos = true;
    return vocab;
}

int32_t Tokenizer::bos() const { return processor_->bos_id(); }

}  // namespace bitnet::train
