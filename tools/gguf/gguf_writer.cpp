#include "gguf/gguf_writer.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "util/checked_math.h"
#include "util/error.h"
#include "util/file_path.h"
#include "util/half.h"

namespace bitnet::gguf {
namespace {

constexpr uint64_t kDefaultAlignment = 32;  // formats.md §1.4
constexpr uint32_t kVersion = 3;
constexpr std::string_view kAlignmentKey = "general.alignment";
constexpr size_t kFileBufferBytes = size_t{1} << 20;

// Little-endian encoders (formats.md §1.1), independent of the host's byte order.
void put_u32(std::vector<uint8_t> &out, uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}
void put_u64(std::vector<uint8_t> &out, uint64_t value) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}
void put_type(std::vector<uint8_t> &out, ValueType type) { put_u32(out, static_cast<uint32_t>(type)); }
void put_string(std::vector<uint8_t> &out, std::string_view text) {
    put_u64(out, text.size());
    out.insert(out.end(), text.begin(), text.end());
}

std::vector<uint8_t> array_header(ValueType element_type, uint64_t count) {
    std::vector<uint8_t> out;
    put_type(out, ValueType::ARRAY);
    put_type(out, element_type);
    put_u64(out, count);
    return out;
}

using Metadata = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// Replacing a key keeps its original position, so a file's key order is stable across edits.
void store(Metadata &metadata, std::string_view key, std::vector<uint8_t> encoded) {
    for (auto &[existing_key, existing_value] : metadata) {
        if (existing_key == key) {
            existing_value = std::move(encoded);
            return;
        }
    }
    metadata.emplace_back(std::string(key), std::move(encoded));
}

// general.alignment also decides the layout write() produces, so only the constructor sets it.
void store_user_key(Metadata &metadata, std::string_view key, std::vector<uint8_t> encoded) {
    if (key == kAlignmentKey) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: set general.alignment through the Writer's alignment argument");
    }
    store(metadata, key, std::move(encoded));
}

uint64_t padded_size(uint64_t bytes, uint64_t alignment) {
    uint64_t padded = 0;
    if (!checked_align_up(bytes, alignment, &padded)) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: %" PRIu64 " bytes overflow when aligned", bytes);
    }
    return padded;
}

// Streams to a file through a modest stdio buffer; an unfinished file is removed so a failed or
// interrupted conversion never leaves a truncated model behind.
class FileSink {
public:
    explicit FileSink(std::string path) : path_(std::move(path)), file_(open_file(path_, "wb")) {  // UTF-8 path, also on Windows
        if (!file_) fail(BITNET_ERR_IO, "gguf writer: cannot create '%s': %s", path_.c_str(), std::strerror(errno));
        std::setvbuf(file_, nullptr, _IOFBF, kFileBufferBytes);
    }
    FileSink(const FileSink &) = delete;
    FileSink &operator=(const FileSink &) = delete;
    ~FileSink() {
        if (file_) {
            std::fclose(file_);
            remove_file(path_);
        }
    }

    void write(const uint8_t *data, uint64_t bytes) {
        if (bytes != 0 && std::fwrite(data, 1, bytes, file_) != bytes) {
            fail(BITNET_ERR_IO, "gguf writer: cannot write '%s': %s", path_.c_str(), std::strerror(errno));
        }
    }

    void finish() {
        std::FILE *file = file_;
        file_ = nullptr;
        if (std::fclose(file) != 0) {
            int error = errno;
            remove_file(path_);
            fail(BITNET_ERR_IO, "gguf writer: cannot finish '%s': %s", path_.c_str(), std::strerror(error));
        }
    }

private:
    std::string path_;
    std::FILE *file_;
};

struct MemorySink {
    std::vector<uint8_t> bytes;
    void write(const uint8_t *data, uint64_t n) { bytes.insert(bytes.end(), data, data + n); }
};

}  // namespace

// general.alignment, when written, is the first key: the constructor stores it before any other.
Writer::Writer(uint64_t alignment) : alignment_(alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > UINT32_MAX) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "gguf writer: alignment %" PRIu64 " is not a power of two that fits in UINT32", alignment);
    }
    if (alignment != kDefaultAlignment) {
        std::vector<uint8_t> encoded;
        put_type(encoded, ValueType::U32);
        put_u32(encoded, static_cast<uint32_t>(alignment));
        store(metadata_, kAlignmentKey, std::move(encoded));
    }
}

void Writer::set_u32(std::string_view key, uint32_t value) {
    std::vector<uint8_t> encoded;
    put_type(encoded, ValueType::U32);
    put_u32(encoded, value);
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_i32(std::string_view key, int32_t value) {
    std::vector<uint8_t> encoded;
    put_type(encoded, ValueType::I32);
    put_u32(encoded, static_cast<uint32_t>(value));
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_u64(std::string_view key, uint64_t value) {
    std::vector<uint8_t> encoded;
    put_type(encoded, ValueType::U64);
    put_u64(encoded, value);
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_f32(std::string_view key, float value) {
    std::vector<uint8_t> encoded;
    put_type(encoded, ValueType::F32);
    put_u32(encoded, float_to_bits(value));
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_bool(std::string_view key, bool value) {
    std::vector<uint8_t> encoded;
    put_type(encoded, ValueType::BOOL);
    encoded.push_back(value ? 1 : 0);
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_string(std::string_view key, std::string_view value) {
    std::vector<uint8_t> encoded;
    put_type(encoded, ValueType::STRING);
    put_string(encoded, value);
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_string_array(std::string_view key, const std::vector<std::string> &values) {
    std::vector<uint8_t> encoded = array_header(ValueType::STRING, values.size());
    for (const std::string &value : values) put_string(encoded, value);
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_f32_array(std::string_view key, const std::vector<float> &values) {
    std::vector<uint8_t> encoded = array_header(ValueType::F32, values.size());
    for (float value : values) put_u32(encoded, float_to_bits(value));
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::set_i32_array(std::string_view key, const std::vector<int32_t> &values) {
    std::vector<uint8_t> encoded = array_header(ValueType::I32, values.size());
    for (int32_t value : values) put_u32(encoded, static_cast<uint32_t>(value));
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::copy_value(std::string_view key, const File &source, const Value &value) {
    // The payload was validated when `source` was parsed; make sure it really is that file's.
    uint64_t end = 0;
    if (value.payload != source.image() + value.offset || !checked_add(value.offset, value.payload_bytes, &end) ||
        end > source.size()) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: value for '%.*s' does not belong to the source file",
             static_cast<int>(key.size()), key.data());
    }
    std::vector<uint8_t> encoded;
    if (value.type == ValueType::ARRAY) {
        encoded = array_header(value.element_type, value.count);
    } else {
        put_type(encoded, value.type);
    }
    encoded.insert(encoded.end(), value.payload, value.payload + value.payload_bytes);
    store_user_key(metadata_, key, std::move(encoded));
}

void Writer::add_tensor(std::string_view name, TensorType type, const std::vector<uint64_t> &dims,
                        TensorFiller filler) {
    const std::string printable_name(name.substr(0, 96));
    if (name.size() > kMaxTensorNameBytes) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: tensor name '%s...' is longer than %" PRIu64 " bytes",
             printable_name.c_str(), kMaxTensorNameBytes);
    }
    for (const PendingTensor &tensor : tensors_) {
        if (tensor.name == name)
            fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: duplicate tensor '%s'", printable_name.c_str());
    }
    if (dims.empty() || dims.size() > kMaxDims) {
        fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: tensor '%s' has %zu dimensions (1..%d allowed)",
             printable_name.c_str(), dims.size(), kMaxDims);
    }
    uint64_t n_elements = 1;
    for (uint64_t dim : dims) {
        if (dim == 0 || !checked_mul(n_elements, dim, &n_elements)) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: tensor '%s' has a zero or overflowing dimension",
                 printable_name.c_str());
        }
    }
    uint64_t n_bytes = 0;
    if (!tensor_total_bytes(type, n_elements, dims[0], &n_bytes)) {
        fail(BITNET_ERR_INVALID_ARGUMENT,
             "gguf writer: tensor '%s': row length %" PRIu64
             " is not a multiple of the %s block size %u (or the size overflows)",
             printable_name.c_str(), dims[0], tensor_type_name(type), tensor_type_traits(type).block_elements);
    }
    if (!filler) fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: tensor '%s' has no filler", printable_name.c_str());
    tensors_.push_back(PendingTensor{std::string(name), type, dims, n_bytes, std::move(filler)});
}

// Layout (formats.md §1.1, §1.4): header, KVs, tensor infos, zero padding to the data section,
// then each tensor in the order added, zero-padded to the alignment (the last one too, as
// gguf-py does). The TensorType values are the on-disk ggml ids.
template <class Sink> void Writer::emit(Sink &sink) const {
    std::vector<uint8_t> head = {'G', 'G', 'U', 'F'};
    put_u32(head, kVersion);
    put_u64(head, tensors_.size());
    put_u64(head, metadata_.size());
    for (const auto &[key, encoded] : metadata_) {
        put_string(head, key);
        head.insert(head.end(), encoded.begin(), encoded.end());
    }
    uint64_t offset = 0;
    for (const PendingTensor &tensor : tensors_) {
        put_string(head, tensor.name);
        put_u32(head, static_cast<uint32_t>(tensor.dims.size()));
        for (uint64_t dim : tensor.dims) put_u64(head, dim);
        put_u32(head, static_cast<uint32_t>(tensor.type));
        put_u64(head, offset);
        if (!checked_add(offset, padded_size(tensor.n_bytes, alignment_), &offset)) {
            fail(BITNET_ERR_INVALID_ARGUMENT, "gguf writer: total tensor data overflows 64 bits");
        }
    }
    head.resize(padded_size(head.size(), alignment_), 0);
    sink.write(head.data(), head.size());

    std::vector<uint8_t> buffer;  // one tensor at a time, reused
    for (const PendingTensor &tensor : tensors_) {
        buffer.assign(padded_size(tensor.n_bytes, alignment_), 0);
        tensor.filler(buffer.data(), tensor.n_bytes);
        sink.write(buffer.data(), buffer.size());
    }
}

void Writer::write(const std::string &path) const {
    FileSink sink(path);
    emit(sink);
    sink.finish();
}

std::vector<uint8_t> Writer::write_to_memory() const {
    MemorySink sink;
    emit(sink);
    return std::move(sink.bytes);
}

}  // namespace bitnet::gguf
