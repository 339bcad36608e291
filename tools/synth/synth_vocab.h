// Tokenizer metadata for synthetic models: copied from a vocabulary GGUF, or a minimal byte-level
// BPE vocabulary (256 byte tokens, special tokens, no merges) when none is given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

namespace bitnet {

struct SynthVocabulary {
    const gguf::File *source = nullptr;  // copy from here when set
    uint64_t n_tokens = 0;
    std::vector<std::string> tokens;     // generated vocabulary only
    std::vector<int32_t> token_types;    // generated, or derived when the source lacks them
    int32_t bos = 0, eos = 0;
};

// From `source` when given; else the byte-level vocabulary: ids 0-255 the bytes, then
//  - n_tokens < 128256: <|begin_of_text|> 256 (BOS), <|end_of_text|> 257 (EOS), <|eot_id|> 258;
//  - n_tokens >= 128256: the Llama 3 layout of the 2B-4T file (formats.md §4.2), the 256 special
//    tokens at 128000-128255 (BOS 128000, EOS 128001, <|eot_id|> 128009);
// and every other id up to `n_tokens` a NORMAL filler token: a deterministic pseudo-word ("bako",
// " tize"), so that random-weight generation prints visible text rather than control tokens.
SynthVocabulary make_synth_vocabulary(const gguf::File *source, int32_t n_tokens);

// tokenizer.ggml.add_bos_token, which the official file stores among the model keys (§2.9 #10).
void write_vocabulary_flag_keys(gguf::Writer &writer, const SynthVocabulary &vocab);

// The remaining tokenizer keys in the official order (§2.9 #14-#22). With `official_layout`,
// tokenizer.ggml.pre is left out as in the official 2B-4T file (its tokenizer still applies the
// Llama 3 rules, formats.md §4.1).
void write_vocabulary_keys(gguf::Writer &writer, const SynthVocabulary &vocab, bool official_layout);

}  // namespace bitnet
