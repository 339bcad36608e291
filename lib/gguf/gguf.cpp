#include "gguf/gguf.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cinttypes>
#include <cstdarg>
#include <cstring>
#include <limits>
#include <numeric>

#include "util/checked_math.h"
#include "util/error.h"
#include "util/half.h"
#include "util/log.h"

namespace bitnet::gguf {
namespace {

constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
// The smallest records the counts can describe, so that a count is refused before anything is
// allocated for it: a KV with an empty key and a 1-byte value (§1.1), and a tensor info with an
// empty name and a single dimension (§1.3).
constexpr uint64_t kMinEntryBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr uint64_t kMaxKeyBytes = 65535;  // §1.1
constexpr uint32_t kValueTypeCount = 13;  // §1.2
constexpr std::string_view kAlignmentKey = "general.alignment";
constexpr std::string_view kArchitectureKey = "general.architecture";

// Little-endian loads that depend neither on the host's byte order nor on alignment.
uint16_t load_u16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t load_u32(const uint8_t *p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t load_u64(const uint8_t *p) { return uint64_t{load_u32(p)} | uint64_t{load_u32(p + 4)} << 32; }

// `n` bytes of the image at p as text. Callers have checked that the bytes lie inside the image,
// which is in memory, so n fits in size_t even where size_t has 32 bits.
std::string_view as_text(const uint8_t *p, uint64_t n) {
    return {reinterpret_cast<const char *>(p), static_cast<size_t>(n)};
}

// A gguf_string payload (u64 length + bytes) as a view.
std::string_view load_string(const uint8_t *p) { return as_text(p + 8, load_u64(p)); }

// Bytes of one value of a fixed-size type; 0 for STRING and ARRAY (§1.2).
uint64_t fixed_value_bytes(ValueType type) {
    switch (type) {
        case ValueType::U8:
        case ValueType::I8:
        case ValueType::BOOL: return 1;
        case ValueType::U16:
        case ValueType::I16: return 2;
        case ValueType::U32:
        case ValueType::I32:
        case ValueType::F32: return 4;
        case ValueType::U64:
        case ValueType::I64:
        case ValueType::F64: return 8;
        case ValueType::STRING:
        case ValueType::ARRAY: return 0;
    }
    return 0;
}

bool is_signed_integer(ValueType type) {
    return type == ValueType::I8 || type == ValueType::I16 || type == ValueType::I32 || type == ValueType::I64;
}
bool is_unsigned_integer(ValueType type) {
    return type == ValueType::U8 || type == ValueType::U16 || type == ValueType::U32 || type == ValueType::U64;
}

int64_t load_signed(ValueType type, const uint8_t *p) {
    switch (type) {
        case ValueType::I8: return static_cast<int8_t>(p[0]);
        case ValueType::I16: return static_cast<int16_t>(load_u16(p));
        case ValueType::I32: return static_cast<int32_t>(load_u32(p));
        default: return static_cast<int64_t>(load_u64(p));
    }
}

uint64_t load_unsigned(ValueType type, const uint8_t *p) {
    switch (type) {
        case ValueType::U8: return p[0];
        case ValueType::U16: return load_u16(p);
        case ValueType::U32: return load_u32(p);
        default: return load_u64(p);
    }
}

double load_f64(const uint8_t *p) {
    uint64_t bits = load_u64(p);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Names and keys come from untrusted files and go into messages: cut them short and escape every
// byte outside printable ASCII (keys and tensor names are ASCII by spec), so a hostile name can
// neither flood a log nor make the message invalid UTF-8 for the language bindings.
std::string printable(std::string_view text) {
    constexpr size_t kMaxShown = 96;
    std::string out;
    for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        out += (c < 0x20 || c >= 0x7f) ? format("\\x%02x", c) : std::string(1, static_cast<char>(c));
    }
    if (text.size() > kMaxShown) out += "...";
    return out;
}

// Quote a string element for render(): escapes what would make the list ambiguous or unreadable.
std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default: out += (c < 0x20 || c == 0x7f) ? format("\\x%02x", c) : std::string(1, ch);
        }
    }
    return out + "\"";
}

std::string key_subject(std::string_view key, uint64_t key_offset) {
    return format("key '%s' (at byte %" PRIu64 ")", printable(key).c_str(), key_offset);
}

std::string tensor_subject(const TensorInfo &tensor) {
    return format("tensor '%s' (info at byte %" PRIu64 ")", printable(tensor.name).c_str(), tensor.info_offset);
}

std::string shape_text(const TensorInfo &tensor) {
    std::string out = "[";
    for (uint32_t d = 0; d < tensor.n_dims; ++d) out += format("%s%" PRIu64, d ? ", " : "", tensor.dims[d]);
    return out + "]";
}

// "[begin, end)" in file offsets; the end is spelled as a sum if it does not fit in 64 bits.
std::string range_text(uint64_t begin, uint64_t bytes) {
    uint64_t end = 0;
    if (checked_add(begin, bytes, &end)) return format("[%" PRIu64 ", %" PRIu64 ")", begin, end);
    return format("[%" PRIu64 ", %" PRIu64 " + %" PRIu64 ")", begin, begin, bytes);
}

std::string type_text(const Value &value) {
    if (value.type != ValueType::ARRAY) return value_type_name(value.type);
    return std::string("ARRAY of ") + value_type_name(value.element_type);
}

// Throw "gguf: <subject>: <detail>".
[[noreturn]] BITNET_PRINTF_FORMAT(3, 4) void fail_in(bitnet_status status, const std::string &subject,
                                                                const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string detail = vformat(fmt, args);
    va_end(args);
    throw Error(status, "gguf: " + subject + ": " + detail);
}

[[noreturn]] void fail_type(const MetadataEntry &entry, const char *expected) {
    fail_in(BITNET_ERR_INVALID_MODEL, key_subject(entry.key, entry.key_offset), "has type %s; expected %s",
            type_text(entry.value).c_str(), expected);
}

// "f32, f16, ...": the types of the type table, for messages.
std::string supported_type_names() {
    size_t count = 0;
    const TensorTypeTraits *types = all_tensor_types(&count);
    std::string names;
    for (size_t i = 0; i < count; ++i) names += (i ? ", " : "") + std::string(types[i].name);
    return names;
}

// Ids that ggml (upstream or the BitNet fork) defines for types this engine does not run,
// excluding the collision range 36-39, which depends on the architecture (formats.md §1.5). Lower
// case like the type table's names; messages print them upper case, as ggml spells them.
const char *unsupported_type_name(uint32_t id) {
    switch (id) {
        case 9: return "q8_1";
        case 15: return "q8_k";
        case 16: return "iq2_xxs";
        case 17: return "iq2_xs";
        case 18: return "iq3_xxs";
        case 19: return "iq1_s";
        case 21: return "iq3_s";
        case 22: return "iq2_s";
        case 23: return "iq4_xs";
        case 24: return "i8";
        case 25: return "i16";
        case 26: return "i32";
        case 27: return "i64";
        case 28: return "f64";
        case 29: return "iq1_m";
        case 31: return "q4_0_4_4";
        case 32: return "q4_0_4_8";
        case 33: return "q4_0_8_8";
        case 40: return "nvfp4";
        case 41: return "q1_0";
        case 42: return "q2_0";
        default: return nullptr;
    }
}

}  // namespace

const char *foreign_type_name(uint32_t raw_id, bool bitnet_architecture) {
    if (std::optional<TensorType> type = tensor_type_from_id(raw_id); type && (raw_id < 36 || raw_id > 39)) {
        return tensor_type_name(*type);
    }
    switch (raw_id) {  // the collision range, by architecture (formats.md §1.5)
        case 36: return bitnet_architecture ? "i2_s" : "iq4_nl_4_4";
        case 37: return bitnet_architecture ? "i8_s" : "iq4_nl_4_8";
        case 38: return bitnet_architecture ? "tl1" : "iq4_nl_8_8";
        case 39: return bitnet_architecture ? "tl2" : "mxfp4";
        default: break;
    }
    const char *name = unsupported_type_name(raw_id);
    return name ? name : "unknown";
}

const char *value_type_name(ValueType type) {
    switch (type) {
        case ValueType::U8: return "UINT8";
        case ValueType::I8: return "INT8";
        case ValueType::U16: return "UINT16";
        case ValueType::I16: return "INT16";
        case ValueType::U32: return "UINT32";
        case ValueType::I32: return "INT32";
        case ValueType::F32: return "FLOAT32";
        case ValueType::BOOL: return "BOOL";
        case ValueType::STRING: return "STRING";
        case ValueType::ARRAY: return "ARRAY";
        case ValueType::U64: return "UINT64";
        case ValueType::I64: return "INT64";
        case ValueType::F64: return "FLOAT64";
    }
    return "unknown";
}

// One linear pass over the image: header, metadata, tensor infos, then the tensor layout. Every
// read is bounds-checked before it happens; string arrays are walked (lengths only) and kept as
// offsets, so a 400k-string tokenizer costs no allocation per string.
class Parser {
public:
    Parser(File &file, const ParseOptions &options)
        : file_(file), options_(options), image_(file.image_), size_(file.size_) {}

    void run() {
        uint64_t tensor_count = 0, kv_count = 0;
        parse_header(&tensor_count, &kv_count);
        for (uint64_t i = 0; i < kv_count; ++i) parse_entry(i);
        apply_general_keys();
        for (uint64_t i = 0; i < tensor_count; ++i) parse_tensor_info(i);
        place_tensors();
    }

private:
    uint64_t remaining() const { return size_ - position_; }

    // `describe` builds the field's description only when the check fails.
    template <class Describe> void need(uint64_t bytes, const Describe &describe) const {
        if (bytes > remaining()) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: %s at byte %" PRIu64 " needs %" PRIu64 " bytes but only %" PRIu64 " remain (file is %" PRIu64
                 " bytes)",
                 describe().c_str(), position_, bytes, remaining(), size_);
        }
    }

    template <class Describe> uint32_t read_u32(const Describe &describe) {
        need(4, describe);
        uint32_t value = load_u32(image_ + position_);
        position_ += 4;
        return value;
    }

    template <class Describe> uint64_t read_u64(const Describe &describe) {
        need(8, describe);
        uint64_t value = load_u64(image_ + position_);
        position_ += 8;
        return value;
    }

    // A gguf_string whose length must not exceed `max_bytes` (nor, of course, the file).
    template <class Describe> std::string_view read_string(const Describe &describe, uint64_t max_bytes) {
        uint64_t length_offset = position_;
        uint64_t length = read_u64([&] { return describe() + " length"; });
        if (length > max_bytes) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: %s length %" PRIu64 " at byte %" PRIu64 " exceeds the limit of %" PRIu64 " bytes",
                 describe().c_str(), length, length_offset, max_bytes);
        }
        need(length, describe);
        std::string_view text = as_text(image_ + position_, length);
        position_ += length;
        return text;
    }

    void parse_header(uint64_t *tensor_count, uint64_t *kv_count) {
        need(4, [] { return std::string("magic"); });
        if (std::memcmp(image_, kMagic, 4) != 0) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: bad magic at byte 0: expected \"GGUF\" (47 47 55 46), found %02x %02x %02x %02x", image_[0],
                 image_[1], image_[2], image_[3]);
        }
        position_ = 4;
        uint32_t version = read_u32([] { return std::string("version"); });
        // Upstream's test for a file written on a host of the other byte order (§1.1).
        if (version != 0 && (version & 0xFFFFu) == 0) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: version field at byte 4 is 0x%08x, which looks byte-swapped: big-endian GGUF files are not "
                 "supported",
                 version);
        }
        if (version == 1) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: version 1 at byte 4 is not supported (GGUF v1 used 32-bit counts); "
                 "re-convert the model to GGUF v3");
        }
        if (version != 2 && version != 3) {
            fail(BITNET_ERR_INVALID_MODEL, "gguf: unsupported version %u at byte 4 (supported: 2 and 3)", version);
        }
        file_.version_ = version;
        *tensor_count = read_u64([] { return std::string("tensor_count"); });
        *kv_count = read_u64([] { return std::string("metadata_kv_count"); });

        uint64_t left = remaining();
        if (*kv_count > left / kMinEntryBytes) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: metadata_kv_count at byte 16 is %" PRIu64 ", but each key-value pair needs at least %" PRIu64
                 " bytes and only %" PRIu64 " bytes follow the header",
                 *kv_count, kMinEntryBytes, left);
        }
        if (*tensor_count > left / kMinTensorInfoBytes) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: tensor_count at byte 8 is %" PRIu64 ", but each tensor info needs at least %" PRIu64
                 " bytes and only %" PRIu64 " bytes follow the header",
                 *tensor_count, kMinTensorInfoBytes, left);
        }
        uint64_t needed = 0;  // both products are bounded by `left` above, only the sum can overflow
        if (!checked_add(*kv_count * kMinEntryBytes, *tensor_count * kMinTensorInfoBytes, &needed) || needed > left) {
            fail(BITNET_ERR_INVALID_MODEL,
                 "gguf: %" PRIu64 " key-value pairs (metadata_kv_count at byte 16) and %" PRIu64
                 " tensor infos (tensor_count at byte 8) cannot fit in the %" PRIu64 " bytes after the header",
                 *kv_count, *tensor_count, left);
        }
    }

    // A value type id; arrays of arrays are refused like llama.cpp does (§1.1).
    ValueType read_value_type(const std::string &subject, bool element) {
        uint64_t at = position_;
        uint32_t id = read_u32([&] { return subject + (element ? ": array element type" : ": value type"); });
        if (id >= kValueTypeCount) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject, "unknown %s %u at byte %" PRIu64 " (valid ids are 0..12)",
                    element ? "array element type" : "value type", id, at);
        }
        if (element && id == static_cast<uint32_t>(ValueType::ARRAY)) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject,
                    "nested arrays (array of array, element type at byte %" PRIu64 ") are not supported", at);
        }
        return static_cast<ValueType>(id);
    }

    void parse_entry(uint64_t index) {
        MetadataEntry entry;
        entry.key_offset = position_;
        std::string_view key =
            read_string([&] { return format("key of metadata entry %" PRIu64, index); }, kMaxKeyBytes);
        entry.key.assign(key);
        const std::string subject = key_subject(key, entry.key_offset);

        Value &value = entry.value;
        value.type = read_value_type(subject, false);
        if (value.type == ValueType::ARRAY) {
            value.element_type = read_value_type(subject, true);
            value.count = read_u64([&] { return subject + ": array count"; });
        }
        value.offset = position_;
        value.payload = image_ + position_;
        skip_values(subject, value.type == ValueType::ARRAY ? value.element_type : value.type, value.count,
                    value.type == ValueType::ARRAY);
        value.payload_bytes = position_ - value.offset;

        auto [existing, inserted] = file_.metadata_index_.emplace(entry.key, file_.metadata_.size());
        if (!inserted) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject, "duplicate key (first defined at byte %" PRIu64 ")",
                    file_.metadata_[existing->second].key_offset);
        }
        file_.metadata_.push_back(std::move(entry));
    }

    // Validate `count` values of `type` at the cursor and step over them.
    void skip_values(const std::string &subject, ValueType type, uint64_t count, bool in_array) {
        uint64_t at = position_;
        if (uint64_t size = fixed_value_bytes(type)) {
            uint64_t bytes = 0;
            if (!checked_mul(count, size, &bytes) || bytes > remaining()) {
                fail_in(BITNET_ERR_INVALID_MODEL, subject,
                        "%" PRIu64 " %s value(s) at byte %" PRIu64 " need %" PRIu64 "x%" PRIu64
                        " bytes but only %" PRIu64 " remain (file is %" PRIu64 " bytes)",
                        count, value_type_name(type), at, count, size, remaining(), size_);
            }
            if (type == ValueType::BOOL) check_bools(subject, count);
            position_ += bytes;
            return;
        }
        // STRING (ARRAY elements were refused earlier): each needs at least its 8-byte length.
        if (count > remaining() / 8) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject,
                    "array of %" PRIu64 " strings at byte %" PRIu64 " cannot fit in the %" PRIu64 " remaining bytes",
                    count, at, remaining());
        }
        for (uint64_t i = 0; i < count; ++i) {
            uint64_t length_at = position_;
            uint64_t length = read_u64([&] { return subject + format(": string %" PRIu64 " length", i); });
            if (length > remaining()) {
                fail_in(BITNET_ERR_INVALID_MODEL, subject,
                        "%s length %" PRIu64 " at byte %" PRIu64 " exceeds the %" PRIu64 " bytes left in the file",
                        in_array ? format("string %" PRIu64 " of the array", i).c_str() : "string", length, length_at,
                        remaining());
            }
            position_ += length;
        }
    }

    void check_bools(const std::string &subject, uint64_t count) const {
        for (uint64_t i = 0; i < count; ++i) {
            uint8_t byte = image_[position_ + i];
            if (byte > 1) {
                fail_in(BITNET_ERR_INVALID_MODEL, subject, "BOOL value %u at byte %" PRIu64 " must be 0 or 1", byte,
                        position_ + i);
            }
        }
    }

    // general.alignment and general.architecture shape how the rest of the file is read (§1.4, §1.5).
    void apply_general_keys() {
        if (const MetadataEntry *entry = file_.find(kAlignmentKey)) {
            if (entry->value.type != ValueType::U32) fail_type(*entry, "UINT32");
            uint32_t alignment = load_u32(entry->value.payload);
            if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
                fail_in(BITNET_ERR_INVALID_MODEL, key_subject(entry->key, entry->key_offset),
                        "alignment %u is not a nonzero power of two", alignment);
            }
            file_.alignment_ = alignment;
        }
        if (const MetadataEntry *entry = file_.find(kArchitectureKey)) {
            if (entry->value.type != ValueType::STRING) fail_type(*entry, "STRING");
            file_.architecture_ = std::string(load_string(entry->value.payload));
        }
    }

    void parse_tensor_info(uint64_t index) {
        TensorInfo tensor;
        tensor.info_offset = position_;
        tensor.name = std::string(
            read_string([&] { return format("name of tensor info %" PRIu64, index); }, kMaxTensorNameBytes));
        const std::string subject = tensor_subject(tensor);

        uint64_t at = position_;
        tensor.n_dims = read_u32([&] { return subject + ": n_dims"; });
        if (tensor.n_dims < 1 || tensor.n_dims > kMaxDims) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject, "n_dims %u at byte %" PRIu64 " is out of range (1..%d)",
                    tensor.n_dims, at, kMaxDims);
        }
        uint64_t n_elements = 1;
        bool overflow = false;
        for (uint32_t d = 0; d < tensor.n_dims; ++d) {
            at = position_;
            tensor.dims[d] = read_u64([&] { return subject + format(": dimension %u", d); });
            if (tensor.dims[d] == 0) {
                fail_in(BITNET_ERR_INVALID_MODEL, subject, "dimension %u at byte %" PRIu64 " is 0", d, at);
            }
            overflow = overflow || !checked_mul(n_elements, tensor.dims[d], &n_elements);
        }
        // ggml counts elements in int64_t (§1.3).
        if (overflow || n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject, "element count of shape %s overflows",
                    shape_text(tensor).c_str());
        }
        tensor.n_elements = n_elements;
        tensor.raw_type = read_u32([&] { return subject + ": type"; });
        tensor.offset = read_u64([&] { return subject + ": offset"; });

        auto [existing, inserted] = file_.tensor_index_.emplace(tensor.name, file_.tensors_.size());
        if (!inserted) {
            fail_in(BITNET_ERR_INVALID_MODEL, subject, "duplicate tensor name (first defined at byte %" PRIu64 ")",
                    file_.tensors_[existing->second].info_offset);
        }
        file_.tensors_.push_back(std::move(tensor));
    }

    // Locate every tensor's data: aligned, inside the file, and not overlapping another. Files
    // need not pack tensors contiguously in info order (upstream's stricter rule, §1.3).
    void place_tensors() {
        if (!checked_align_up(position_, file_.alignment_, &file_.data_offset_)) {
            fail(BITNET_ERR_INVALID_MODEL, "gguf: data section offset overflows (tensor infos end at byte %" PRIu64 ")",
                 position_);
        }
        std::vector<TensorInfo> &tensors = file_.tensors_;
        std::vector<size_t> by_offset(tensors.size());
        std::iota(by_offset.begin(), by_offset.end(), size_t{0});
        std::sort(by_offset.begin(), by_offset.end(), [&](size_t a, size_t b) {
            return tensors[a].offset != tensors[b].offset ? tensors[a].offset < tensors[b].offset : a < b;
        });
        // next_offset[i]: where the next tensor in the data section starts (none: end of file).
        std::vector<uint64_t> next_offset(tensors.size(), std::numeric_limits<uint64_t>::max());
        for (size_t k = 0; k + 1 < by_offset.size(); ++k) next_offset[by_offset[k]] = tensors[by_offset[k + 1]].offset;

        for (size_t i = 0; i < tensors.size(); ++i) place_tensor(tensors[i], next_offset[i]);

        for (size_t k = 1; k < by_offset.size(); ++k) {
            const TensorInfo &previous = tensors[by_offset[k - 1]];
            const TensorInfo &current = tensors[by_offset[k]];
            if (previous.offset + previous.n_bytes > current.offset) {  // both lie inside the file
                uint64_t base = file_.data_offset_;
                fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(current), "data %s overlaps tensor '%s' at %s",
                        range_text(base + current.offset, current.n_bytes).c_str(), printable(previous.name).c_str(),
                        range_text(base + previous.offset, previous.n_bytes).c_str());
            }
        }
    }

    void place_tensor(TensorInfo &tensor, uint64_t next_offset) {
        const uint64_t alignment = file_.alignment_;
        if (tensor.offset % alignment != 0) {
            fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(tensor),
                    "offset %" PRIu64 " is not a multiple of the alignment %" PRIu64, tensor.offset, alignment);
        }
        uint64_t begin = 0;
        if (!checked_add(file_.data_offset_, tensor.offset, &begin) || begin > size_) {
            fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(tensor),
                    "offset %" PRIu64 " (data section at byte %" PRIu64 ") is past the end of the file (%" PRIu64
                    " bytes)",
                    tensor.offset, file_.data_offset_, size_);
        }
        uint64_t available = size_ - begin;
        uint64_t extent = std::min(available, next_offset - tensor.offset);  // next_offset >= offset (sorted)
        if (options_.keep_unrunnable_types) {
            try {
                tensor.type = resolve_type(tensor, extent);
            } catch (const Error &error) {
                // Kept for tools that show a file (bitnet inspect), never bound to a model: its size
                // is unknown to this engine, so the tensor spans up to the next one or the file's end.
                tensor.unrunnable = error.what();
                tensor.type_label = foreign_type_name(tensor.raw_type, file_.architecture_.starts_with("bitnet"));
                tensor.n_bytes = extent;
                tensor.data = image_ + begin;
                return;
            }
        } else {
            tensor.type = resolve_type(tensor, extent);
        }
        tensor.type_label = tensor_type_name(tensor.type);

        const TensorTypeTraits &traits = tensor_type_traits(tensor.type);
        if (tensor.dims[0] % traits.block_elements != 0) {
            fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(tensor),
                    "row length ne0 = %" PRIu64 " is not a multiple of the %s block size %u", tensor.dims[0],
                    traits.name, traits.block_elements);
        }
        if (!tensor_total_bytes(tensor.type, tensor.n_elements, tensor.dims[0], &tensor.n_bytes)) {
            fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(tensor), "byte size of shape %s as %s overflows",
                    shape_text(tensor).c_str(), traits.name);
        }
        if (tensor.n_bytes > available) {
            fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(tensor),
                    "data %s extends past the end of the file (%" PRIu64 " bytes)",
                    range_text(begin, tensor.n_bytes).c_str(), size_);
        }
        tensor.data = image_ + begin;
    }

    // Map a file type id to an engine type: the type table's ids are ggml's, except that ids 36-39
    // mean different things in the BitNet fork and upstream ggml; the architecture decides those
    // (formats.md §1.5).
    TensorType resolve_type(const TensorInfo &tensor, uint64_t extent) const {
        const bool bitnet_arch = file_.architecture_.starts_with("bitnet");
        switch (tensor.raw_type) {
            case 36: return bitnet_arch ? TensorType::I2_S : resolve_foreign_36(tensor, extent);
            case 37:
                if (bitnet_arch) {
                    fail_in(
                        BITNET_ERR_INVALID_MODEL, tensor_subject(tensor),
                        "type id 37 is I8_S, the BitNet fork's internal activation type, which never appears in files");
                }
                unsupported(tensor, "IQ4_NL_4_8 (a repacked type since removed from upstream ggml)");
            case 38:
                if (bitnet_arch) unsupported_lookup_table(tensor, "TL1");
                unsupported(tensor, "IQ4_NL_8_8 (a repacked type since removed from upstream ggml)");
            case 39:
                if (bitnet_arch) unsupported_lookup_table(tensor, "TL2");
                unsupported(tensor, "MXFP4");
            default:
                if (std::optional<TensorType> type = tensor_type_from_id(tensor.raw_type)) return *type;
                if (const char *name = unsupported_type_name(tensor.raw_type)) {
                    std::string upper(name);  // as ggml spells it in messages: "IQ2_XXS"
                    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                    unsupported(tensor, upper.c_str());
                }
                fail_in(BITNET_ERR_INVALID_MODEL, tensor_subject(tensor), "unknown type id %u", tensor.raw_type);
        }
    }

    // Id 36 outside a bitnet architecture is upstream's removed IQ4_NL_4_4, but BitNet I2_S files
    // have been relabelled with other architectures. Accept I2_S only when the bytes the tensor
    // spans are exactly an I2_S tensor (n/4 + 32, §2.1) padded to the alignment.
    TensorType resolve_foreign_36(const TensorInfo &tensor, uint64_t extent) const {
        uint64_t i2s_bytes = 0, padded = 0;
        bool matches = tensor_total_bytes(TensorType::I2_S, tensor.n_elements, tensor.dims[0], &i2s_bytes) &&
                       checked_align_up(i2s_bytes, file_.alignment_, &padded) && extent >= i2s_bytes &&
                       extent <= padded;
        if (!matches) {
            unsupported(tensor, format("IQ4_NL_4_4 under architecture '%s' (id 36, a repacked type since removed "
                                       "from upstream ggml; its %" PRIu64 "-byte extent does not match I2_S)",
                                       printable(file_.architecture_).c_str(), extent)
                                    .c_str());
        }
        LOG_WARN("gguf: tensor '%s' has type id 36 under architecture '%s'; resolved as I2_S by its size (%" PRIu64
                 " bytes = n/4 + 32; upstream ggml's id 36 is the removed IQ4_NL_4_4)",
                 printable(tensor.name).c_str(), printable(file_.architecture_).c_str(), i2s_bytes);
        return TensorType::I2_S;
    }

    [[noreturn]] static void unsupported(const TensorInfo &tensor, const char *type_name) {
        fail_in(BITNET_ERR_UNSUPPORTED, tensor_subject(tensor),
                "type %s (id %u) is not supported (supported: %s)", type_name, tensor.raw_type,
                supported_type_names().c_str());
    }

    [[noreturn]] static void unsupported_lookup_table(const TensorInfo &tensor, const char *type_name) {
        fail_in(BITNET_ERR_UNSUPPORTED, tensor_subject(tensor),
                "type %s (id %u) is a build-specific lookup-table layout; convert the model to I2_S", type_name,
                tensor.raw_type);
    }

    File &file_;
    const ParseOptions options_;
    const uint8_t *image_;
    uint64_t size_;
    uint64_t position_ = 0;
};

File File::parse(const uint8_t *image, uint64_t size, const ParseOptions &options) {
    if (image == nullptr && size != 0) fail(BITNET_ERR_INVALID_ARGUMENT, "gguf: null image of %" PRIu64 " bytes", size);
    File file;
    file.image_ = image;
    file.size_ = size;
    Parser(file, options).run();
    return file;
}

const MetadataEntry *File::find(std::string_view key) const {
    auto it = metadata_index_.find(key);
    return it == metadata_index_.end() ? nullptr : &metadata_[it->second];
}

const TensorInfo *File::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<uint64_t> File::get_uint(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    const Value &value = entry->value;
    if (is_unsigned_integer(value.type)) return load_unsigned(value.type, value.payload);
    if (!is_signed_integer(value.type)) fail_type(*entry, "an unsigned integer");
    int64_t signed_value = load_signed(value.type, value.payload);
    if (signed_value < 0) {
        fail_in(BITNET_ERR_INVALID_MODEL, key_subject(entry->key, entry->key_offset),
                "%s value %" PRId64 " is negative; expected an unsigned integer", value_type_name(value.type),
                signed_value);
    }
    return static_cast<uint64_t>(signed_value);
}

std::optional<int64_t> File::get_int(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    const Value &value = entry->value;
    if (is_signed_integer(value.type)) return load_signed(value.type, value.payload);
    if (!is_unsigned_integer(value.type)) fail_type(*entry, "an integer");
    uint64_t unsigned_value = load_unsigned(value.type, value.payload);
    if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail_in(BITNET_ERR_INVALID_MODEL, key_subject(entry->key, entry->key_offset),
                "UINT64 value %" PRIu64 " does not fit in a signed 64-bit integer", unsigned_value);
    }
    return static_cast<int64_t>(unsigned_value);
}

std::optional<double> File::get_float(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    if (entry->value.type == ValueType::F32) return bits_to_float(load_u32(entry->value.payload));
    if (entry->value.type == ValueType::F64) return load_f64(entry->value.payload);
    fail_type(*entry, "FLOAT32 or FLOAT64");
}

std::optional<bool> File::get_bool(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    if (entry->value.type != ValueType::BOOL) fail_type(*entry, "BOOL");
    return entry->value.payload[0] != 0;
}

std::optional<std::string_view> File::get_string(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    if (entry->value.type != ValueType::STRING) fail_type(*entry, "STRING");
    return load_string(entry->value.payload);
}

std::optional<std::vector<std::string_view>> File::get_string_array(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    const Value &value = entry->value;
    if (value.type != ValueType::ARRAY || value.element_type != ValueType::STRING) fail_type(*entry, "ARRAY of STRING");
    std::vector<std::string_view> strings;
    strings.reserve(value.count);  // validated: count <= payload_bytes / 8
    const uint8_t *p = value.payload;
    for (uint64_t i = 0; i < value.count; ++i) {
        strings.push_back(load_string(p));
        p += 8 + strings.back().size();
    }
    return strings;
}

std::optional<std::vector<float>> File::get_f32_array(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    const Value &value = entry->value;
    if (value.type != ValueType::ARRAY || value.element_type != ValueType::F32) fail_type(*entry, "ARRAY of FLOAT32");
    std::vector<float> floats(value.count);
    for (uint64_t i = 0; i < value.count; ++i) floats[i] = bits_to_float(load_u32(value.payload + 4 * i));
    return floats;
}

std::optional<std::vector<int32_t>> File::get_i32_array(std::string_view key) const {
    const MetadataEntry *entry = find(key);
    if (!entry) return std::nullopt;
    const Value &value = entry->value;
    const ValueType element = value.element_type;
    const bool narrow = element == ValueType::I8 || element == ValueType::U8 || element == ValueType::I16 ||
                        element == ValueType::U16 || element == ValueType::I32 || element == ValueType::U32;
    if (value.type != ValueType::ARRAY || !narrow) fail_type(*entry, "ARRAY of a 32-bit or narrower integer type");
    const uint64_t stride = fixed_value_bytes(element);
    std::vector<int32_t> integers(value.count);
    for (uint64_t i = 0; i < value.count; ++i) {
        const uint8_t *p = value.payload + stride * i;
        if (is_signed_integer(element)) {
            integers[i] = static_cast<int32_t>(load_signed(element, p));
            continue;
        }
        uint64_t unsigned_value = load_unsigned(element, p);
        if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
            fail_in(BITNET_ERR_INVALID_MODEL, key_subject(entry->key, entry->key_offset),
                    "element %" PRIu64 " (UINT32 %" PRIu64 ") does not fit in a signed 32-bit integer", i,
                    unsigned_value);
        }
        integers[i] = static_cast<int32_t>(unsigned_value);
    }
    return integers;
}

namespace {

// Shortest text that reads back to the same value.
template <class Float> std::string shortest(Float value) {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

std::string render_number(ValueType type, const uint8_t *p) {
    if (is_signed_integer(type)) return std::to_string(load_signed(type, p));
    if (is_unsigned_integer(type)) return std::to_string(load_unsigned(type, p));
    if (type == ValueType::F32) return shortest(bits_to_float(load_u32(p)));
    if (type == ValueType::F64) return shortest(load_f64(p));
    return p[0] ? "true" : "false";  // BOOL
}

}  // namespace

std::string File::render(const Value &value, uint64_t max_elements) const {
    if (value.type == ValueType::STRING) return std::string(load_string(value.payload));
    if (value.type != ValueType::ARRAY) return render_number(value.type, value.payload);

    std::string out = "[";
    const uint8_t *p = value.payload;
    const uint64_t shown = std::min(value.count, max_elements);
    for (uint64_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        if (value.element_type == ValueType::STRING) {
            std::string_view text = load_string(p);
            out += quoted(text);
            p += 8 + text.size();
        } else {
            out += render_number(value.element_type, p);
            p += fixed_value_bytes(value.element_type);
        }
    }
    if (shown < value.count) out += format("%s... (%" PRIu64 " total)", shown ? ", " : "", value.count);
    return out + "]";
}

}  // namespace bitnet::gguf
