// Building a Vocabulary from GGUF tokenizer metadata: tokens, special ids, the tokenizer model.
#include "tokenizer/vocabulary.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/spm.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {
namespace {

constexpr const char *kSpaceSymbol = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

// End-of-turn tokens by text, most specific first (llama.cpp recognises the same spellings). The
// fullwidth-bar spelling is two literals (a hex escape would swallow the "e" of "end"), in
// parentheses so that clang's -Wstring-concatenation sees the concatenation is meant.
constexpr const char *kEndOfTurnTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
    ("<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"),
};
// Every token with one of these texts ends generation, besides EOS, EOT and EOM.
constexpr const char *kEndOfGenerationTexts[] = {
    "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
    "<|endoftext|>", "<EOT>", "_<EOT>", "</s>",
    ("<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"),
};

constexpr int32_t kLlama3VocabularySize = 128256;
constexpr bitnet_token kLlama3BeginOfText = 128000;

bool is_text_type(uint8_t type) {
    return type == BITNET_TOKEN_TYPE_NORMAL || type == BITNET_TOKEN_TYPE_UNDEFINED;
}

// "<0xAB>" -> 0xAB, or -1.
int parse_byte_token(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
    int value = 0;
    for (char c : text.substr(3, 2)) {
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0;;) {
        size_t found = text.find(from, pos);
        if (found == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        out.append(text.substr(pos, found - pos)).append(to);
        pos = found + from.size();
    }
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::unique_ptr<Vocabulary> Vocabulary::load(const gguf::File &file) {
    auto start = std::chrono::steady_clock::now();
    std::optional<std::string_view> model_name = file.get_string("tokenizer.ggml.model");
    if (model_name && (*model_name == "none" || *model_name == "no_vocab")) return nullptr;
    if (!file.find("tokenizer.ggml.tokens")) {
        if (model_name) LOG_WARN("tokenizer: tokenizer.ggml.model is set but tokenizer.ggml.tokens is missing: no vocabulary");
        return nullptr;
    }
    if (!model_name) fail(BITNET_ERR_INVALID_MODEL, "tokenizer: tokenizer.ggml.tokens is present but tokenizer.ggml.model is missing");

    std::unique_ptr<Vocabulary> vocab(new Vocabulary());
    if (*model_name == "gpt2") {
        vocab->model_ = TokenizerModel::BytePairEncoding;
    } else if (*model_name == "llama") {
        vocab->model_ = TokenizerModel::SentencePiece;
    } else {
        fail(BITNET_ERR_UNSUPPORTED, "tokenizer: tokenizer.ggml.model '%.*s' is not supported (supported: gpt2, llama)",
             static_cast<int>(model_name->size()), model_name->data());
    }
    vocab->load_tokens(file);
    if (vocab->model_ == TokenizerModel::BytePairEncoding) vocab->choose_pre_tokenizer(file);
    vocab->load_special_ids(file);
    std::vector<bool> byte_level_clean = vocab->build_pieces();
    if (vocab->model_ == TokenizerModel::BytePairEncoding) {
        vocab->build_bpe_encoder(file, byte_level_clean);
    } else {
        vocab->build_spm_encoder();
    }
    vocab->build_special_matcher();
    LOG_INFO("tokenizer: %s, %d tokens, loaded in %.1f ms", vocab->describe().c_str(), vocab->n_tokens(),
             milliseconds_since(start));
    return vocab;
}

void Vocabulary::load_tokens(const gguf::File &file) {
    std::vector<std::string_view> tokens = file.get_string_array("tokenizer.ggml.tokens").value_or(std::vector<std::string_view>{});
    if (tokens.empty()) fail(BITNET_ERR_INVALID_MODEL, "tokenizer: tokenizer.ggml.tokens is empty");
    if (tokens.size() > (1u << 30)) fail(BITNET_ERR_INVALID_MODEL, "tokenizer: %zu tokens is too many", tokens.size());
    const size_t count = tokens.size();

    uint64_t total = 0;
    for (std::string_view token : tokens) total += token.size() + 1;
    if (total > UINT32_MAX) fail(BITNET_ERR_INVALID_MODEL, "tokenizer: token texts take %llu bytes (at most 4 GiB)",
                                 static_cast<unsigned long long>(total));
    texts_.reserve(total);
    text_offsets_.reserve(count + 1);
    for (std::string_view token : tokens) {
        text_offsets_.push_back(static_cast<uint32_t>(texts_.size()));
        texts_.append(token).push_back('\0');
    }
    text_offsets_.push_back(static_cast<uint32_t>(texts_.size()));

    if (auto types = file.get_i32_array("tokenizer.ggml.token_type")) {
        if (types->size() != count) {
            fail(BITNET_ERR_INVALID_MODEL, "tokenizer: tokenizer.ggml.token_type has %zu entries for %zu tokens", types->size(), count);
        }
        types_.resize(count);
        for (size_t i = 0; i < count; ++i) {
            int32_t type = (*types)[i];
            if (type < BITNET_TOKEN_TYPE_UNDEFINED || type > BITNET_TOKEN_TYPE_BYTE) {
                fail(BITNET_ERR_INVALID_MODEL, "tokenizer: tokenizer.ggml.token_type[%zu] = %d is not a token type (0-6)", i, type);
            }
            types_[i] = static_cast<uint8_t>(type);
        }
    } else {
        // Without types, SentencePiece's byte tokens are still recognisable by their spelling.
        types_.assign(count, BITNET_TOKEN_TYPE_NORMAL);
        if (model_ == TokenizerModel::SentencePiece) {
            for (size_t i = 0; i < count; ++i) {
                if (parse_byte_token(tokens[i]) >= 0) types_[i] = BITNET_TOKEN_TYPE_BYTE;
            }
        }
    }

    if (auto scores = file.get_f32_array("tokenizer.ggml.scores")) {
        if (scores->size() != count) {
            fail(BITNET_ERR_INVALID_MODEL, "tokenizer: tokenizer.ggml.scores has %zu entries for %zu tokens", scores->size(), count);
        }
        scores_ = std::move(*scores);
    } else if (model_ == TokenizerModel::SentencePiece) {
        LOG_WARN("tokenizer: SentencePiece vocabulary without tokenizer.ggml.scores: merges go left to right");
    }

    token_of_text_.reserve(count);
    for (size_t i = 0; i < count; ++i) token_of_text_.insert(text(static_cast<bitnet_token>(i)), static_cast<bitnet_token>(i));

    llama3_vocabulary_ = count == kLlama3VocabularySize && text(kLlama3BeginOfText) == "<|begin_of_text|>";
}

void Vocabulary::load_special_ids(const gguf::File &file) {
    auto read_id = [&](const char *key, bitnet_token fallback) -> bitnet_token {
        std::optional<int64_t> value = file.get_int(key);
        if (!value) return fallback < n_tokens() ? fallback : BITNET_TOKEN_NULL;
        if (*value < 0) return BITNET_TOKEN_NULL;
        if (*value >= n_tokens()) {
            fail(BITNET_ERR_INVALID_MODEL, "tokenizer: %s = %lld is not a token id (the vocabulary has %d tokens)", key,
                 static_cast<long long>(*value), n_tokens());
        }
        return static_cast<bitnet_token>(*value);
    };
    auto by_text = [&](std::initializer_list<const char *> texts) {
        for (const char *candidate : texts) {
            bitnet_token token = find(candidate);
            if (token != BITNET_TOKEN_NULL) return token;
        }
        return BITNET_TOKEN_NULL;
    };

    const bool spm = model_ == TokenizerModel::SentencePiece;
    bos_ = read_id("tokenizer.ggml.bos_token_id", spm ? 1 : by_text({"<|begin_of_text|>"}));
    eos_ = read_id("tokenizer.ggml.eos_token_id", spm ? 2 : by_text({"<|end_of_text|>", "<|endoftext|>"}));
    unknown_ = read_id("tokenizer.ggml.unknown_token_id", spm ? 0 : BITNET_TOKEN_NULL);
    eom_ = read_id("tokenizer.ggml.eom_token_id", by_text({"<|eom_id|>"}));
    eot_ = read_id("tokenizer.ggml.eot_token_id", BITNET_TOKEN_NULL);
    if (eot_ == BITNET_TOKEN_NULL) {
        for (const char *candidate : kEndOfTurnTexts) {
            if ((eot_ = find(candidate)) != BITNET_TOKEN_NULL) break;
        }
    }

    for (bitnet_token token : {eos_, eot_, eom_}) {
        if (token != BITNET_TOKEN_NULL) eog_.push_back(token);
    }
    for (const char *candidate : kEndOfGenerationTexts) {
        bitnet_token token = find(candidate);
        if (token != BITNET_TOKEN_NULL && types_[token] != BITNET_TOKEN_TYPE_NORMAL) eog_.push_back(token);
    }
    std::sort(eog_.begin(), eog_.end());
    eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());

    const bool llama3 = !spm && pre_tokenizer_ == PreTokenizer::Llama3;
    add_bos_ = file.get_bool("tokenizer.ggml.add_bos_token").value_or(spm || llama3);
    add_eos_ = file.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
    add_space_prefix_ = file.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    if (add_bos_ && bos_ == BITNET_TOKEN_NULL) {
        LOG_WARN("tokenizer: add_bos_token is set but the vocabulary has no BOS token");
        add_bos_ = false;
    }
    if (add_eos_ && eos_ == BITNET_TOKEN_NULL) {
        LOG_WARN("tokenizer: add_eos_token is set but the vocabulary has no EOS token");
        add_eos_ = false;
    }
}

std::vector<bool> Vocabulary::build_pieces() {
    std::vector<bool> byte_level_clean(types_.size(), false);
    const bool spm = model_ == TokenizerModel::SentencePiece;
    pieces_.reserve(texts_.size());
    piece_offsets_.reserve(types_.size() + 1);
    for (size_t i = 0; i < types_.size(); ++i) {
        piece_offsets_.push_back(static_cast<uint32_t>(pieces_.size()));
        std::string_view token_text = text(static_cast<bitnet_token>(i));
        uint8_t type = types_[i];
        int byte = type == BITNET_TOKEN_TYPE_BYTE ? parse_byte_token(token_text) : -1;
        if (byte >= 0) {
            pieces_.push_back(static_cast<char>(byte));
        } else if (spm && (is_text_type(type) || type == BITNET_TOKEN_TYPE_USER_DEFINED)) {
            pieces_.append(replace_all(token_text, kSpaceSymbol, " "));
        } else if (!spm && is_text_type(type)) {
            byte_level_clean[i] = byte_level::decode(token_text, pieces_);
        } else {
            pieces_.append(token_text);
        }
    }
    piece_offsets_.push_back(static_cast<uint32_t>(pieces_.size()));
    return byte_level_clean;
}

void Vocabulary::choose_pre_tokenizer(const gguf::File &file) {
    std::optional<std::string_view> pre = file.get_string("tokenizer.ggml.pre");
    // Falcon 3 and Falcon-E (a BitNet b1.58 family) use the Llama 3 rules under their own names.
    if (pre && (*pre == "llama3" || *pre == "llama-v3" || *pre == "llama-bpe" || *pre == "falcon3" ||
                *pre == "falcon-h1" || *pre == "falcon_e")) {
        pre_tokenizer_ = PreTokenizer::Llama3;
    } else if (pre && (*pre == "gpt-2" || *pre == "gpt2")) {
        pre_tokenizer_ = PreTokenizer::Gpt2;
    } else if (!pre || *pre == "default") {
        if (llama3_vocabulary_) {
            // The official 2B-4T file has no pre key; its model was trained with the Llama 3 rules.
            pre_tokenizer_ = PreTokenizer::Llama3;
            LOG_INFO("tokenizer: no tokenizer.ggml.pre; the Llama 3 vocabulary gets the Llama 3 pre-tokenizer");
        } else {
            pre_tokenizer_ = PreTokenizer::Gpt2;
            LOG_WARN("tokenizer: tokenizer.ggml.pre is %s; using the GPT-2 pre-tokenizer", pre ? "'default'" : "missing");
        }
    } else {
        fail(BITNET_ERR_UNSUPPORTED,
             "tokenizer: pre-tokenizer tokenizer.ggml.pre = '%.*s' is not supported (supported: llama-bpe, llama3, "
             "llama-v3, falcon3, falcon-h1, falcon_e, gpt-2, default)",
             static_cast<int>(pre->size()), pre->data());
    }
}

void Vocabulary::build_bpe_encoder(const gguf::File &file, const std::vector<bool> &byte_level_clean) {
    const bool ignore_merges = pre_tokenizer_ == PreTokenizer::Llama3;

    BpeTables tables;
    int missing_bytes = 0;
    for (uint32_t byte = 0; byte < 256; ++byte) {
        tables.byte_tokens[byte] = find(byte_level::encode_byte(static_cast<uint8_t>(byte)));
        missing_bytes += tables.byte_tokens[byte] == BITNET_TOKEN_NULL;
    }
    if (missing_bytes) LOG_WARN("tokenizer: %d of the 256 byte-level tokens are missing; those bytes are dropped", missing_bytes);

    tables.whole_words.reserve(types_.size());
    for (size_t i = 0; i < types_.size(); ++i) {
        if (!byte_level_clean[i]) continue;
        tables.whole_words.insert(std::string_view(pieces_.data() + piece_offsets_[i], piece_offsets_[i + 1] - piece_offsets_[i]),
                                  static_cast<bitnet_token>(i));
    }

    const gguf::MetadataEntry *merges_entry = file.find("tokenizer.ggml.merges");
    if (!merges_entry) fail(BITNET_ERR_INVALID_MODEL, "tokenizer: a gpt2 vocabulary needs tokenizer.ggml.merges");
    std::vector<std::string_view> merge_texts = file.get_string_array("tokenizer.ggml.merges").value_or(std::vector<std::string_view>{});
    size_t skipped = build_bpe_merges(merge_texts, token_of_text_, tables.merges);
    if (skipped) LOG_WARN("tokenizer: %zu of %zu merges name texts that are not tokens and can never apply", skipped, merge_texts.size());

    encoder_ = std::make_unique<BpeEncoder>(pre_tokenizer_, ignore_merges, std::move(tables));
}

void Vocabulary::build_spm_encoder() {
    SpmTables tables;
    // llama2.c-derived vocabularies spell spaces as spaces instead of U+2581.
    bool has_space_symbol = texts_.find(kSpaceSymbol) != std::string::npos;
    bool has_plain_space = false;
    for (size_t i = 0; i < types_.size() && !has_space_symbol && !has_plain_space; ++i) {
        has_plain_space = is_text_type(types_[i]) && text(static_cast<bitnet_token>(i)).find(' ') != std::string_view::npos;
    }
    tables.space_symbol = has_space_symbol || !has_plain_space ? kSpaceSymbol : " ";

    tables.pieces.reserve(types_.size());
    std::vector<std::string_view> piece_texts;
    for (size_t i = 0; i < types_.size(); ++i) {
        // Merges only form ordinary and user-defined pieces, as SentencePiece does: text that
        // spells "<s>" or "<0x41>" stays text.
        if (is_text_type(types_[i]) || types_[i] == BITNET_TOKEN_TYPE_USER_DEFINED) {
            tables.pieces.insert(text(static_cast<bitnet_token>(i)), static_cast<bitnet_token>(i));
            piece_texts.push_back(text(static_cast<bitnet_token>(i)));
        }
    }
    tables.words_are_independent = spm_words_are_independent(piece_texts, tables.space_symbol);
    tables.scores = scores_.empty() ? std::vector<float>(types_.size(), 0.0f) : scores_;
    int missing_bytes = 0;
    for (uint32_t byte = 0; byte < 256; ++byte) {
        char spelled[8];
        std::snprintf(spelled, sizeof spelled, "<0x%02X>", byte);
        bitnet_token token = find(spelled);
        if (token == BITNET_TOKEN_NULL) token = tables.pieces.find(std::string_view(reinterpret_cast<const char *>(&byte), 1));
        tables.byte_tokens[byte] = token;
        missing_bytes += token == BITNET_TOKEN_NULL;
    }
    if (missing_bytes) {
        LOG_WARN("tokenizer: %d byte tokens are missing; such bytes become the unknown token", missing_bytes);
    }
    tables.unknown = unknown_;
    tables.add_space_prefix = add_space_prefix_;
    encoder_ = std::make_unique<SpmEncoder>(std::move(tables));
}

void Vocabulary::build_special_matcher() {
    for (size_t i = 0; i < types_.size(); ++i) {
        uint8_t type = types_[i];
        if (type == BITNET_TOKEN_TYPE_CONTROL || type == BITNET_TOKEN_TYPE_UNKNOWN) {
            special_matcher_.add(static_cast<bitnet_token>(i), text(static_cast<bitnet_token>(i)), false);
        } else if (type == BITNET_TOKEN_TYPE_USER_DEFINED) {
            special_matcher_.add(static_cast<bitnet_token>(i), text(static_cast<bitnet_token>(i)), true);
        }
    }
    special_matcher_.finish();
}

}  // namespace bitnet
