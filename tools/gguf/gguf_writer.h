// GGUF v3 writer: metadata and tensors streamed to a file in the layout the reader expects
// (tensors contiguous in the order added, each padded to the alignment).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"

namespace bitnet::gguf {

class Writer {
public:
    // A power of two. general.alignment is written (UINT32, as the first key) only if != 32; the
    // set_* functions and copy_value refuse that key, since it must match the layout written.
    explicit Writer(uint64_t alignment = 32);

    void set_u32(std::string_view key, uint32_t value);
    void set_i32(std::string_view key, int32_t value);
    void set_u64(std::string_view key, uint64_t value);
    void set_f32(std::string_view key, float value);
    void set_bool(std::string_view key, bool value);
    void set_string(std::string_view key, std::string_view value);
    void set_string_array(std::string_view key, const std::vector<std::string> &values);
    void set_f32_array(std::string_view key, const std::vector<float> &values);
    void set_i32_array(std::string_view key, const std::vector<int32_t> &values);
    // Copy a value verbatim from another file (used to carry a tokenizer across).
    void copy_value(std::string_view key, const File &source, const Value &value);

    // Fills exactly `n_bytes` bytes (tensor_total_bytes of the shape) when the data is written.
    using TensorFiller = std::function<void(uint8_t *destination, uint64_t n_bytes)>;

    // dims[0] is the row length (ne0). The filler runs during write(), in the order tensors were
    // added, so a multi-gigabyte model never has to sit in memory at once.
    void add_tensor(std::string_view name, TensorType type, const std::vector<uint64_t> &dims, TensorFiller filler);

    // Write everything to `path`. Throws Error(BITNET_ERR_IO) on failure.
    void write(const std::string &path) const;
    // The same bytes in memory (for tests and small files).
    std::vector<uint8_t> write_to_memory() const;

private:
    struct PendingTensor {
        std::string name;
        TensorType type;
        std::vector<uint64_t> dims;
        uint64_t n_bytes;
        TensorFiller filler;
    };
    template <class Sink> void emit(Sink &sink) const;

    uint64_t alignment_;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> metadata_;  // key, encoded type+value
    std::vector<PendingTensor> tensors_;
};

}  // namespace bitnet::gguf
