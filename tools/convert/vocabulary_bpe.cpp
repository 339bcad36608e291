// tokenizer.json (Hugging Face `tokenizers` serialization, formats.md §3.6) -> byte-level BPE vocabulary.
#include <map>

#include "convert/json_file.h"
#include "convert/vocabulary.h"
#include "util/error.h"

namespace bitnet::convert {
namespace {

// The Llama 3 pre-tokenizer regex as tokenizer.json spells it (formats.md §4.3).
constexpr const char *kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Fields of a pre_tokenizer node that may be any JSON value (a hostile file must get the "not one this
// converter knows" message, not a json::type_error): "" / `fallback` unless the field has the right type.
std::string string_field(const nlohmann::json &node, const char *key) {
    if (!node.is_object()) return "";
    auto it = node.find(key);
    return it != node.end() && it->is_string() ? it->get<std::string>() : "";
}
bool bool_field(const nlohmann::json &node, const char *key, bool fallback) {
    if (!node.is_object()) return fallback;
    auto it = node.find(key);
    return it != node.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Falcon 3's pre_tokenizer (tiiuae/Falcon3-*, and the Falcon3-*-1.58bit checkpoints that share its
// tokenizer.json): Sequence[Punctuation(Contiguous), ByteLevel(add_prefix_space false, use_regex true),
// Digits(individual_digits true)]. llama.cpp identifies this tokenizer by its chkhsh
// (convert_hf_to_gguf.py, "ref: https://huggingface.co/tiiuae/Falcon3-7B-Base" -> res = "falcon3") and
// runs "falcon3" with the Llama 3 split rules (src/llama-vocab.cpp: "falcon3" -> LLAMA_VOCAB_PRE_TYPE_LLAMA3,
// ignore_merges); lib/tokenizer/vocabulary_load.cpp does the same. We follow llama.cpp so a converted
// file tokenizes as llama.cpp's does. The two rule sets agree on ordinary text (single digits either
// way, since Falcon 3's vocabulary has no multi-digit tokens; punctuation runs are pieces under both),
// not on every input (a space before punctuation joins it under the Llama 3 regex).
// Falcon (1)'s chain differs (Digits individual_digits false, then a Split on [0-9]{3}) and is refused.
bool is_falcon3_pre_tokenizer(const nlohmann::json &pre) {
    if (string_field(pre, "type") != "Sequence") return false;
    auto steps = pre.find("pretokenizers");
    if (steps == pre.end() || !steps->is_array() || steps->size() != 3) return false;
    const nlohmann::json &punctuation = (*steps)[0], &byte_level = (*steps)[1], &digits = (*steps)[2];
    return string_field(punctuation, "type") == "Punctuation" && string_field(punctuation, "behavior") == "Contiguous" &&
           string_field(byte_level, "type") == "ByteLevel" && !bool_field(byte_level, "add_prefix_space", false) &&
           bool_field(byte_level, "use_regex", true) && string_field(digits, "type") == "Digits" &&
           bool_field(digits, "individual_digits", false);
}

// Choose tokenizer.ggml.pre from the pre_tokenizer: the Llama 3 split regex -> "llama-bpe"; Falcon 3's
// sequence -> "falcon3"; a bare ByteLevel with its own (GPT-2) regex -> "gpt-2". Anything else is refused
// rather than guessed, since a wrong pre-tokenizer silently changes every tokenization.
std::string choose_pre_tokenizer(const JsonFile &file) {
    auto pre = file.root.find("pre_tokenizer");
    if (pre == file.root.end() || pre->is_null()) {
        fail(BITNET_ERR_UNSUPPORTED, "%s: field 'pre_tokenizer' is missing; byte-level BPE needs one", file.path.c_str());
    }
    const std::string text = pre->dump();
    if (text.find(nlohmann::json(kLlama3Pattern).dump()) != std::string::npos) return "llama-bpe";
    if (is_falcon3_pre_tokenizer(*pre)) return "falcon3";
    if (string_field(*pre, "type") == "ByteLevel" && bool_field(*pre, "use_regex", true)) return "gpt-2";
    fail(BITNET_ERR_UNSUPPORTED, "%s: pre_tokenizer %.200s is not one this converter knows (Llama 3 split regex, "
         "Falcon 3's Punctuation/ByteLevel/Digits sequence or GPT-2 ByteLevel)", file.path.c_str(), text.c_str());
}

std::string merge_text(const JsonFile &file, const nlohmann::json &merge, size_t index) {
    if (merge.is_string()) {
        const std::string text = merge.get<std::string>();
        // The left piece may start with a space-like character: split at the first space from 1 (§4.5).
        if (text.size() < 3 || text.find(' ', 1) == std::string::npos) {
            fail(BITNET_ERR_INVALID_MODEL, "%s: model.merges[%zu] = \"%.80s\" is not \"left right\"", file.path.c_str(),
                 index, text.c_str());
        }
        return text;
    }
    if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
        return merge[0].get<std::string>() + " " + merge[1].get<std::string>();
    }
    fail(BITNET_ERR_INVALID_MODEL, "%s: model.merges[%zu] is neither a \"left right\" string nor a [left, right] pair",
         file.path.c_str(), index);
}

}  // namespace

Vocabulary read_tokenizer_json(const std::string &path, int64_t n_vocab) {
    const JsonFile file = read_json_file(path);
    auto model = file.root.find("model");
    if (model == file.root.end() || !model->is_object()) fail(BITNET_ERR_INVALID_MODEL, "%s: field 'model' is missing", path.c_str());
    if (model->value("type", "") != "BPE") {
        fail(BITNET_ERR_UNSUPPORTED, "%s: model.type is %s; only \"BPE\" tokenizer.json files are supported (SentencePiece "
             "checkpoints need tokenizer.model)", path.c_str(), model->contains("type") ? (*model)["type"].dump().c_str() : "missing");
    }
    auto vocab_json = model->find("vocab");
    if (vocab_json == model->end() || !vocab_json->is_object()) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: model.vocab must be an object (token -> id)", path.c_str());
    }

    std::map<int64_t, std::pair<std::string, int32_t>> by_id;  // id -> text, type
    auto add = [&](int64_t id, const std::string &text, int32_t type, const char *where) {
        if (id < 0 || id >= (int64_t(1) << 24)) {
            fail(BITNET_ERR_INVALID_MODEL, "%s: %s token \"%.60s\" has id %lld, out of range", path.c_str(), where,
                 text.c_str(), static_cast<long long>(id));
        }
        auto [it, inserted] = by_id.emplace(id, std::make_pair(text, type));
        if (!inserted && it->second.first != text) {
            fail(BITNET_ERR_INVALID_MODEL, "%s: id %lld is used by both \"%.60s\" and \"%.60s\"", path.c_str(),
                 static_cast<long long>(id), it->second.first.c_str(), text.c_str());
        }
        it->second.second = type;
    };
    for (auto it = vocab_json->begin(); it != vocab_json->end(); ++it) {
        if (!it->is_number_integer()) fail(BITNET_ERR_INVALID_MODEL, "%s: model.vocab[\"%.60s\"] is not an integer id", path.c_str(), it.key().c_str());
        add(it->get<int64_t>(), it.key(), gguf::kNormal, "model.vocab");
    }
    if (auto added = file.root.find("added_tokens"); added != file.root.end() && !added->is_null()) {
        if (!added->is_array()) fail(BITNET_ERR_INVALID_MODEL, "%s: field 'added_tokens' is not an array", path.c_str());
        for (const nlohmann::json &token : *added) {
            if (!token.is_object() || !token.contains("id") || !token["id"].is_number_integer() ||
                !token.contains("content") || !token["content"].is_string()) {
                fail(BITNET_ERR_INVALID_MODEL, "%s: an added_tokens entry lacks an integer 'id' or a string 'content'", path.c_str());
            }
            const bool special = token.value("special", false);
            add(token["id"].get<int64_t>(), token["content"].get<std::string>(), special ? gguf::kControl : gguf::kUserDefined,
                "added_tokens");
        }
    }

    Vocabulary vocab;
    vocab.model = "gpt2";
    vocab.pre = choose_pre_tokenizer(file);
    const int64_t highest = by_id.empty() ? -1 : by_id.rbegin()->first;
    if (highest >= n_vocab) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: token id %lld is not below config.json vocab_size %lld", path.c_str(),
             static_cast<long long>(highest), static_cast<long long>(n_vocab));
    }
    vocab.tokens.resize(static_cast<size_t>(n_vocab));
    vocab.token_types.resize(static_cast<size_t>(n_vocab));
    vocab.scores.resize(static_cast<size_t>(n_vocab));
    for (int64_t id = 0; id < n_vocab; ++id) {
        auto it = by_id.find(id);
        if (it == by_id.end()) {
            vocab.tokens[id] = "[PAD" + std::to_string(id) + "]";  // llama.cpp's filler for unused ids
            vocab.token_types[id] = gguf::kUnused;
        } else {
            vocab.tokens[id] = it->second.first;
            vocab.token_types[id] = it->second.second;
        }
        // The official producer writes 0 for ordinary tokens and -1000 for control ones (§2.9).
        vocab.scores[id] = vocab.token_types[id] == gguf::kControl ? -1000.0f : 0.0f;
    }

    auto merges = model->find("merges");
    if (merges == model->end() || !merges->is_array()) fail(BITNET_ERR_INVALID_MODEL, "%s: model.merges must be an array", path.c_str());
    vocab.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) vocab.merges.push_back(merge_text(file, (*merges)[i], i));
    return vocab;
}

}  // namespace bitnet::convert
