// The KL-divergence base file of `bitnet perplexity` (--kl-divergence-base writes it,
// --kl-divergence reads it). This project's own format; llama.cpp's .kld files are not read.
//
// Layout, all integers little-endian:
//   offset  size  field
//        0     8  magic "BNKLDIV\0"
//        8     4  u32 version (1)
//       12     4  u32 logit encoding: 1 = every logit as f32 (the only one; exact, so KLD of a
//                 model against itself is 0 to rounding). Size: n_vocab * 4 bytes per scored token:
//                 a 128256-token vocabulary (Llama 3, BitNet 2B-4T) takes 513 KB per token, 131 MB
//                 per 512-token chunk (255 scored tokens).
//       16     8  u64 model fingerprint (model_fingerprint() below)
//       24     4  u32 n_vocab
//       28     4  u32 n_ctx
//       32     4  u32 n_chunks
//       36     4  u32 first scored position of a chunk (n_ctx / 2)
//       40     8  u64 scored tokens: n_chunks * (n_ctx - 1 - first)
//       48     8  u64 xxh3-64 of the evaluated tokens (n_chunks * n_ctx int32 values, the text's
//                 tokens before BOS is put at chunk starts)
//       56     8  u64 tokens in the whole tokenized text
//       64        scored tokens x n_vocab f32 logits, in chunk order then position order
//      end     8  u64 xxh3-64 of every byte before it
// The file is written under a temporary name and renamed into place when complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bitnet.h"

namespace bitnet_cli {

// What tells models apart while letting the same model in another form compare against itself:
// xxh3-64 of the architecture name, the shape (n_layer, n_embd, n_head, n_head_kv, n_ff), n_vocab
// and every token's text and type. A re-quantized or converted file, another --head-type or
// activation mode gives the same value (comparing those is what the KL divergence is for); a
// model with another vocabulary or shape does not. Weights are not hashed: two files of one
// shape and vocabulary with unrelated weights (e.g. synthetic models of two seeds) are not told
// apart here, which the KL divergence itself then shows.
uint64_t model_fingerprint(const bitnet_model *model);

uint64_t tokens_hash(const bitnet_token *tokens, size_t count);

struct KldHeader {
    uint64_t fingerprint = 0;
    uint32_t n_vocab = 0;
    uint32_t n_ctx = 0;
    uint32_t n_chunks = 0;
    uint32_t first = 0;
    uint64_t n_scored = 0;
    uint64_t tokens_hash = 0;
    uint64_t n_text_tokens = 0;
};

// Streams the logits rows into `path` + ".tmp", then checks the count, appends the checksum and
// renames the file into place. Every method returns false and sets error() on a failure.
class KldWriter {
public:
    KldWriter() = default;
    ~KldWriter();
    KldWriter(const KldWriter &) = delete;
    KldWriter &operator=(const KldWriter &) = delete;

    bool open(const std::string &path, const KldHeader &header);
    bool write_row(const float *logits);
    bool finish();
    const std::string &error() const { return error_; }

private:
    bool write(const void *data, size_t size);

    std::FILE *file_ = nullptr;
    std::string path_, temp_path_, error_;
    KldHeader header_;
    uint64_t rows_ = 0;
    void *hash_state_ = nullptr;  // XXH3_state_t, kept out of this header
};

// Reads a base file: open() checks the magic, version, size and checksum of the whole file before
// anything is used; then rows are read in order.
class KldReader {
public:
    KldReader() = default;
    ~KldReader();
    KldReader(const KldReader &) = delete;
    KldReader &operator=(const KldReader &) = delete;

    bool open(const std::string &path);
    const KldHeader &header() const { return header_; }
    // The next row of header().n_vocab logits into `row`.
    bool read_row(std::vector<float> *row);
    const std::string &error() const { return error_; }

private:
    std::FILE *file_ = nullptr;
    std::string path_, error_;
    KldHeader header_;
};

}  // namespace bitnet_cli
