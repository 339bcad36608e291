// Fuzz target: the tokenizer and the streaming detokenizer on the Llama 3 byte-level BPE and the
// Llama 2 SentencePiece vocabularies (fixtures/vocab). Input: one flags byte, then the text.
//   bit 0: vocabulary (0 Llama 3 BPE, 1 Llama 2 SPM)   bit 1: add_special   bit 2: parse_special
//   bit 3: render_special when detokenizing
// Asserted, from bitnet.h: detokenize(tokenize(s, add_special = false, parse_special = false)) == s
// for any bytes (but U+2581 in the SPM vocabulary, which reads back as a space); the streaming
// detokenizer's output is always valid UTF-8 and, for valid UTF-8 input, equals the text; every
// count function's -needed answer is the size a second call then writes.
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace {

constexpr const char *kVocabularies[2] = {"vocab/ggml-vocab-llama3-bpe.gguf", "vocab/ggml-vocab-llama-spm.gguf"};

bitnet_model *vocabulary(int which) {
    static bitnet_model *models[2] = {bitnet_fuzz::load_fixture_vocab(kVocabularies[0]),
                                      bitnet_fuzz::load_fixture_vocab(kVocabularies[1])};
    return models[which];
}

std::vector<bitnet_token> tokenize(const bitnet_model *model, std::string_view text, bool add_special,
                                   bool parse_special) {
    const int32_t length = static_cast<int32_t>(text.size());
    int32_t n = bitnet_tokenize(model, text.data(), length, nullptr, 0, add_special, parse_special);
    FUZZ_ASSERT(n != BITNET_COUNT_ERROR, "tokenize failed: %s", bitnet_last_error());
    std::vector<bitnet_token> tokens(static_cast<size_t>(n < 0 ? -n : n));
    if (n < 0) {
        const int32_t written = bitnet_tokenize(model, text.data(), length, tokens.data(), -n, add_special, parse_special);
        FUZZ_ASSERT(written == -n, "tokenize asked for %d tokens, then wrote %d", -n, written);
    }
    const int32_t n_vocab = bitnet_vocab_n_tokens(model);
    for (bitnet_token token : tokens) FUZZ_ASSERT(token >= 0 && token < n_vocab, "token %d out of range", token);
    return tokens;
}

std::string detokenize(const bitnet_model *model, const std::vector<bitnet_token> &tokens, bool remove_special,
                       bool render_special) {
    const int32_t n_tokens = static_cast<int32_t>(tokens.size());
    const int32_t n = bitnet_detokenize(model, tokens.data(), n_tokens, nullptr, 0, remove_special, render_special);
    FUZZ_ASSERT(n != BITNET_COUNT_ERROR, "detokenize failed: %s", bitnet_last_error());
    std::string text(static_cast<size_t>(n < 0 ? -n : n), '\0');
    if (n < 0) {
        const int32_t written =
            bitnet_detokenize(model, tokens.data(), n_tokens, text.data(), -n, remove_special, render_special);
        FUZZ_ASSERT(written == -n, "detokenize asked for %d bytes, then wrote %d", -n, written);
    }
    return text;
}

// Pushes the tokens one at a time into a small buffer, growing it when the call asks for more.
std::string stream(const bitnet_model *model, const std::vector<bitnet_token> &tokens, bool render_special) {
    bitnet_detokenizer *detokenizer = nullptr;
    FUZZ_ASSERT(bitnet_detokenizer_new(model, render_special, &detokenizer) == BITNET_OK, "detokenizer_new: %s",
                bitnet_last_error());
    std::string out;
    std::vector<char> buf(4);
    auto collect = [&](auto &&call) {
        int32_t n = call(buf.data(), static_cast<int32_t>(buf.size()));
        if (n < 0 && n != BITNET_COUNT_ERROR) {
            buf.resize(static_cast<size_t>(-n));
            const int32_t again = call(buf.data(), static_cast<int32_t>(buf.size()));
            FUZZ_ASSERT(again == -n, "streaming detokenizer asked for %d bytes, then wrote %d", -n, again);
            n = again;
        }
        FUZZ_ASSERT(n != BITNET_COUNT_ERROR, "streaming detokenizer failed: %s", bitnet_last_error());
        out.append(buf.data(), static_cast<size_t>(n));
    };
    for (bitnet_token token : tokens) {
        collect([&](char *b, int32_t c) { return bitnet_detokenizer_push(detokenizer, token, b, c); });
    }
    collect([&](char *b, int32_t c) { return bitnet_detokenizer_flush(detokenizer, b, c); });
    bitnet_detokenizer_free(detokenizer);
    return out;
}

}  // namespace

namespace bitnet_fuzz {

void prepare() { (void)vocabulary(0); }

// The golden test texts of both fixtures (.inp: cases separated by "\n__ggml_vocab_test__\n").
void write_seeds(SeedWriter &seeds) {
    for (int which = 0; which < 2; ++which) {
        if (!vocabulary(which)) std::exit(77);  // load_fixture_vocab said "skipped" and why
        std::ifstream in(fixture_path(std::string(kVocabularies[which]) + ".inp"), std::ios::binary);
        const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string separator = "\n__ggml_vocab_test__\n";
        int index = 0;
        for (size_t start = 0, end; (end = all.find(separator, start)) != std::string::npos;
             start = end + separator.size(), ++index) {
            // Round-trip mode for every case; the special-token modes for every third one.
            const int flags = which | (index % 3 == 0 ? 0x0E : 0);
            seeds.add("vocab" + std::to_string(which) + "-case" + std::to_string(index),
                      std::string(1, static_cast<char>(flags)) + all.substr(start, end - start));
        }
    }
}

}  // namespace bitnet_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bitnet_fuzz::InputReader input(data, size);
    const uint8_t flags = input.byte();
    const int which = flags & 1;
    const bool add_special = flags & 2, parse_special = flags & 4, render_special = flags & 8;
    const std::string_view text = input.rest();
    const bitnet_model *model = vocabulary(which);
    if (!model) return 0;

    const std::vector<bitnet_token> tokens = tokenize(model, text, add_special, parse_special);
    const std::string whole = detokenize(model, tokens, add_special, render_special);
    const std::string streamed = stream(model, tokens, render_special);
    FUZZ_ASSERT(bitnet_fuzz::is_valid_utf8(streamed), "streaming detokenizer wrote invalid UTF-8");

    const bool promised = !add_special && !parse_special && !render_special &&
                          !(which == 1 && text.find("\xE2\x96\x81") != std::string_view::npos);
    if (promised) {
        FUZZ_ASSERT(whole == text, "round trip: %zu bytes in, %zu bytes back (%zu tokens)", text.size(), whole.size(),
                    tokens.size());
        if (bitnet_fuzz::is_valid_utf8(text)) {
            FUZZ_ASSERT(streamed == text, "streaming round trip of valid UTF-8: %zu bytes in, %zu back", text.size(),
                        streamed.size());
        }
    }
    return 0;
}
