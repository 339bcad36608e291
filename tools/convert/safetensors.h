// Safetensors reader: one memory-mapped file whose JSON header is validated as strictly as the GGUF
// reader validates its header, exposing each tensor as a zero-copy view into the mapping.
//
// Format (formats.md §3.6; https://huggingface.co/docs/safetensors/index, "Format"): an 8-byte little-endian
// u64 N, then N bytes of UTF-8 JSON (may be padded with spaces), then the data buffer. The JSON is an
// object: "__metadata__" (optional, string -> string) and, per tensor name,
// {"dtype": "BF16", "shape": [d0, d1, ...], "data_offsets": [begin, end]} with offsets relative to
// the start of the data buffer; shape is row-major, d0 outermost (PyTorch order).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/mapped_file.h"

namespace bitnet::convert {

enum class Dtype { BOOL, U8, I8, U16, I16, F16, BF16, U32, I32, F32, U64, I64, F64, F8_E4M3, F8_E5M2 };

const char *dtype_name(Dtype dtype);
uint64_t dtype_bytes(Dtype dtype);

struct SafeTensor {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<uint64_t> shape;  // PyTorch order: shape.back() is the contiguous (row) dimension
    uint64_t n_elements = 1;
    uint64_t n_bytes = 0;
    uint64_t file_offset = 0;     // absolute offset of the first byte in the file
    const uint8_t *data = nullptr;
    std::string path;             // the file it lives in, for messages
};

// Largest header accepted: the reference implementation refuses headers over 100 MB.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

class SafetensorsFile {
public:
    // Map and validate `path`. Throws Error(BITNET_ERR_INVALID_MODEL) naming the file, the tensor or
    // field and what was expected; BITNET_ERR_IO when the file cannot be opened.
    static SafetensorsFile open(const std::string &path);
    // Validate an image in memory (not copied; it must outlive the result). `path` names it in messages.
    static SafetensorsFile parse(const uint8_t *image, uint64_t size, const std::string &path);

    const std::string &path() const { return path_; }
    const std::map<std::string, SafeTensor> &tensors() const { return tensors_; }
    const SafeTensor *find(const std::string &name) const;
    const std::map<std::string, std::string> &metadata() const { return metadata_; }

private:
    std::string path_;
    MappedFile mapping_;  // empty when parsed from caller memory
    std::map<std::string, SafeTensor> tensors_;
    std::map<std::string, std::string> metadata_;
};

}  // namespace bitnet::convert
