// GGUF v2/v3 reader: validates a whole file image before anything uses it and exposes metadata
// and tensors as zero-copy views into the image (formats.md §1).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tensor/tensor_type.h"

namespace bitnet::gguf {

// Metadata value type ids (formats.md §1.2).
enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

const char *value_type_name(ValueType type);

// A metadata value, pointing into the file image.
struct Value {
    ValueType type = ValueType::U8;
    ValueType element_type = ValueType::U8;  // arrays only
    uint64_t count = 1;                      // arrays: element count; scalars and strings: 1
    uint64_t offset = 0;                     // file offset of the payload (after type and array header)
    const uint8_t *payload = nullptr;        // == image + offset; a string's payload is its u64 length
                                             // followed by its bytes (arrays: each string so encoded)
    uint64_t payload_bytes = 0;              // validated extent of the payload
};

struct MetadataEntry {
    std::string key;
    uint64_t key_offset = 0;  // file offset of the key's length field
    Value value;
};

inline constexpr int kMaxDims = 4;
// The spec caps tensor names at 64 bytes (formats.md §1.3); the reader and writer allow up to 256 so
// that a slightly non-conforming producer still loads, while a hostile length is still refused.
inline constexpr uint64_t kMaxTensorNameBytes = 256;

struct TensorInfo {
    std::string name;
    uint32_t n_dims = 0;
    uint64_t dims[kMaxDims] = {1, 1, 1, 1};  // dims[0] = ne0 = row length; unused dims are 1
    uint32_t raw_type = 0;                   // the id stored in the file
    TensorType type = TensorType::F32;       // resolved engine type
    uint64_t offset = 0;                     // relative to the data section
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    uint64_t info_offset = 0;                // file offset of this tensor's info record
    const uint8_t *data = nullptr;           // == image + data_offset + offset
    const char *type_label = "";             // the type's lower-case name (a static string), also for
                                             // types the engine cannot run ("iq2_xxs", "unknown")
    // Only with ParseOptions::keep_unrunnable_types: why the engine cannot run this tensor's type
    // (the error a strict parse gives); `type` is then meaningless and n_bytes is the tensor's extent
    // (up to the next tensor's data or the end of the file). Empty for every runnable tensor.
    std::string unrunnable;

    uint64_t rows() const { return dims[1] * dims[2] * dims[3]; }
};

struct ParseOptions {
    // false (loading a model): a tensor type the engine cannot run fails the parse. true (tools
    // that show any valid GGUF, bitnet inspect): such tensors are kept with TensorInfo::unrunnable
    // set; everything else is validated as strictly.
    bool keep_unrunnable_types = false;
};

// The lower-case ggml name of a file type id ("q4_k", "iq2_xxs", "tl1" in a bitnet architecture, ...),
// or "unknown" for an id no ggml defines. A static string.
const char *foreign_type_name(uint32_t raw_id, bool bitnet_architecture);

class File {
public:
    // Parse and validate `size` bytes at `image`. Nothing is copied: the image must outlive the
    // File. Throws Error: BITNET_ERR_INVALID_MODEL for any malformed field (the message names the
    // field or tensor and its byte offset), BITNET_ERR_UNSUPPORTED for a known type the engine
    // cannot run (e.g. TL1/TL2, MXFP4). Tensors must be aligned, inside the file and must not
    // overlap; unlike upstream they need not be packed in info order. A file without tensors
    // (vocab-only) is valid and need not pad its empty data section.
    static File parse(const uint8_t *image, uint64_t size, const ParseOptions &options = {});

    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }
    uint64_t size() const { return size_; }
    const uint8_t *image() const { return image_; }
    const std::string &architecture() const { return architecture_; }  // "" if absent

    const std::vector<MetadataEntry> &metadata() const { return metadata_; }
    const MetadataEntry *find(std::string_view key) const;

    // Typed getters. Absent key -> nullopt. Present with an incompatible type -> throws
    // BITNET_ERR_INVALID_MODEL naming the key, its offset, and the expected and actual types.
    // get_uint/get_int accept any integer type whose value fits; get_float accepts F32 and F64.
    std::optional<uint64_t> get_uint(std::string_view key) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    std::optional<std::string_view> get_string(std::string_view key) const;

    // Array getters: absent -> empty optional; wrong element type -> throws as above.
    std::optional<std::vector<std::string_view>> get_string_array(std::string_view key) const;
    std::optional<std::vector<float>> get_f32_array(std::string_view key) const;
    std::optional<std::vector<int32_t>> get_i32_array(std::string_view key) const;  // I32, U32 (< 2^31), I8/U8/I16/U16

    // Per-architecture key: architecture() + "." + suffix (the arch may itself contain '.').
    std::string arch_key(std::string_view suffix) const { return architecture_ + "." + std::string(suffix); }

    // Render a value as text: numbers in decimal, strings verbatim, arrays "[a, b, ...]" with at
    // most `max_elements` shown.
    std::string render(const Value &value, uint64_t max_elements = 8) const;

    const std::vector<TensorInfo> &tensors() const { return tensors_; }
    const TensorInfo *find_tensor(std::string_view name) const;

private:
    // Owned keys with heterogeneous lookup: a copied or moved File keeps valid indexes.
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
    };
    using NameIndex = std::unordered_map<std::string, size_t, NameHash, std::equal_to<>>;

    friend class Parser;  // gguf.cpp: fills a File while validating the image

    const uint8_t *image_ = nullptr;
    uint64_t size_ = 0;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::string architecture_;
    std::vector<MetadataEntry> metadata_;
    std::vector<TensorInfo> tensors_;
    NameIndex metadata_index_;  // key -> index in metadata_
    NameIndex tensor_index_;    // name -> index in tensors_
};

}  // namespace bitnet::gguf
