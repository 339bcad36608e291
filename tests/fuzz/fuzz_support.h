// Shared pieces of the libFuzzer targets (tests/fuzz/README.md).
//
// Every target is one fuzz_<name>.cpp that defines LLVMFuzzerTestOneInput and write_seeds() (and
// prepare() if it needs setup).
// fuzz_support.cpp defines LLVMFuzzerInitialize: started as `fuzz_<name> --write-seeds=DIR`, the
// program writes its seed corpus into DIR and exits (libFuzzer ignores flags that start with "--"),
// so each target's seeds are generated from the code at fuzz time, never committed as binaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bitnet.h"

namespace bitnet_fuzz {

// Collects the seed inputs of one target; each becomes one file of the seed corpus.
class SeedWriter {
public:
    explicit SeedWriter(std::string dir) : dir_(std::move(dir)) {}
    void add(std::string_view name, const std::vector<uint8_t> &bytes);
    void add(std::string_view name, std::string_view bytes);
    int count() const { return count_; }

private:
    std::string dir_;
    int count_ = 0;
};

// Defined by each target.
void write_seeds(SeedWriter &seeds);

// Optional (weak): a target that needs slow setup (loading a 128K-token vocabulary takes seconds
// under ASan) defines it, and it runs before fuzzing starts, outside libFuzzer's per-input timeout.
void prepare() __attribute__((weak));

// A libFuzzer "crash" with a message: what the target asserts (a broken promise of bitnet.h) is
// reported and the input saved, just like a sanitizer report.
[[noreturn]] void broken_promise(const char *format, ...) __attribute__((format(printf, 1, 2)));
#define FUZZ_ASSERT(condition, ...)                                                    \
    do {                                                                               \
        if (!(condition)) ::bitnet_fuzz::broken_promise(__VA_ARGS__);                  \
    } while (0)

// Path of a file under ../shared/fixtures (or $BITNET_FIXTURES); "" when it is absent.
std::string fixture_path(const std::string &relative);

// Load a vocabulary-only model from a fixture; nullptr (and a "skipped" line on stderr) when absent.
bitnet_model *load_fixture_vocab(const char *relative);

// The GGUF image of a very small synthetic BitNet model (tools/synth): one layer, n_embd 128 (256
// for TQ1_0/TQ2_0), the byte-level vocabulary. `format` is "i2_s", "tq2_0", "tq1_0", "f16" or
// "f32". Small on purpose: every fuzz input is a whole file, and libFuzzer slows with input size.
std::vector<uint8_t> tiny_model_image(const char *format, uint64_t seed = 1);

// Load a model from bytes through bitnet_model_load_memory (which needs 8-byte alignment, so the
// bytes are copied into `storage`, which must outlive the model).
bitnet_status load_from_bytes(const uint8_t *data, size_t size, const bitnet_model_params &params,
                              std::vector<uint64_t> &storage, bitnet_model **out);

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or values above
// U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Reads an input front to back; past the end it returns zeros / empty views.
class InputReader {
public:
    InputReader(const uint8_t *data, size_t size) : data_(data), size_(size) {}
    uint8_t byte() { return offset_ < size_ ? data_[offset_++] : 0; }
    // The bytes up to the next `separator` (which is consumed), or to the end.
    std::string_view until(uint8_t separator);
    std::string_view rest();
    bool empty() const { return offset_ >= size_; }

private:
    const uint8_t *data_;
    size_t size_;
    size_t offset_ = 0;
};

}  // namespace bitnet_fuzz
