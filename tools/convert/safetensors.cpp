#include "convert/safetensors.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet::convert {
namespace {

struct DtypeRow {
    const char *name;
    Dtype dtype;
    uint64_t bytes;
};

// The dtype strings of the safetensors specification (safetensors `Dtype` enum).
constexpr DtypeRow kDtypes[] = {
    {"BOOL", Dtype::BOOL, 1}, {"U8", Dtype::U8, 1},     {"I8", Dtype::I8, 1},       {"U16", Dtype::U16, 2},
    {"I16", Dtype::I16, 2},   {"F16", Dtype::F16, 2},   {"BF16", Dtype::BF16, 2},   {"U32", Dtype::U32, 4},
    {"I32", Dtype::I32, 4},   {"F32", Dtype::F32, 4},   {"U64", Dtype::U64, 8},     {"I64", Dtype::I64, 8},
    {"F64", Dtype::F64, 8},   {"F8_E4M3", Dtype::F8_E4M3, 1}, {"F8_E5M2", Dtype::F8_E5M2, 1},
};

[[noreturn]] void invalid(const std::string &path, const std::string &what) {
    fail(BITNET_ERR_INVALID_MODEL, "safetensors '%s': %s", path.c_str(), what.c_str());
}

// Tensor names come from the file: keep messages printable and short.
std::string printable(const std::string &text) {
    std::string out;
    for (char c : text.substr(0, 96)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return text.size() > 96 ? out + "..." : out;
}

uint64_t read_u64_le(const uint8_t *bytes) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
    return value;
}

// A JSON number that is a non-negative integer (nlohmann keeps those as unsigned).
bool as_u64(const nlohmann::json &value, uint64_t *out) {
    if (value.is_number_unsigned()) {
        *out = value.get<uint64_t>();
        return true;
    }
    if (value.is_number_integer() && value.get<int64_t>() >= 0) {
        *out = static_cast<uint64_t>(value.get<int64_t>());
        return true;
    }
    return false;
}

SafeTensor parse_entry(const std::string &path, const std::string &name, const nlohmann::json &entry,
                       uint64_t data_size, uint64_t data_start, const uint8_t *image) {
    const std::string where = "tensor '" + printable(name) + "'";
    if (!entry.is_object()) invalid(path, where + ": entry is not a JSON object");
    SafeTensor tensor;
    tensor.name = name;
    tensor.path = path;

    auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) invalid(path, where + ": field 'dtype' is missing or not a string");
    const std::string dtype_text = dtype_it->get<std::string>();
    const DtypeRow *row = nullptr;
    for (const DtypeRow &candidate : kDtypes) {
        if (dtype_text == candidate.name) row = &candidate;
    }
    if (!row) invalid(path, where + ": unknown dtype '" + printable(dtype_text) + "' (expected one of BOOL, U8, I8, U16, I16, F16, BF16, U32, I32, F32, U64, I64, F64, F8_E4M3, F8_E5M2)");
    tensor.dtype = row->dtype;

    auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) invalid(path, where + ": field 'shape' is missing or not an array");
    if (shape_it->size() > 8) invalid(path, where + ": shape has " + std::to_string(shape_it->size()) + " dimensions (at most 8 accepted)");
    for (const nlohmann::json &dim : *shape_it) {
        uint64_t value = 0;
        if (!as_u64(dim, &value)) invalid(path, where + ": shape entries must be non-negative integers");
        if (!checked_mul(tensor.n_elements, value, &tensor.n_elements)) invalid(path, where + ": element count overflows 64 bits");
        tensor.shape.push_back(value);
    }
    if (!checked_mul(tensor.n_elements, row->bytes, &tensor.n_bytes)) invalid(path, where + ": byte size overflows 64 bits");

    auto offsets_it = entry.find("data_offsets");
    uint64_t begin = 0, end = 0;
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !as_u64((*offsets_it)[0], &begin) || !as_u64((*offsets_it)[1], &end)) {
        invalid(path, where + ": field 'data_offsets' must be [begin, end] with non-negative integers");
    }
    if (begin > end) invalid(path, where + ": data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
    if (end > data_size) {
        invalid(path, where + ": data_offsets end " + std::to_string(end) + " is past the data buffer (" +
                          std::to_string(data_size) + " bytes; the file is truncated or the offset is wrong)");
    }
    if (end - begin != tensor.n_bytes) {
        invalid(path, where + ": data_offsets span " + std::to_string(end - begin) + " bytes but dtype " + row->name +
                          " x shape needs " + std::to_string(tensor.n_bytes));
    }
    tensor.file_offset = data_start + begin;
    tensor.data = image + tensor.file_offset;
    return tensor;
}

}  // namespace

const char *dtype_name(Dtype dtype) {
    for (const DtypeRow &row : kDtypes) {
        if (row.dtype == dtype) return row.name;
    }
    return "?";
}

uint64_t dtype_bytes(Dtype dtype) {
    for (const DtypeRow &row : kDtypes) {
        if (row.dtype == dtype) return row.bytes;
    }
    return 0;
}

SafetensorsFile SafetensorsFile::open(const std::string &path) {
    MappedFile mapping = MappedFile::open(path);
    SafetensorsFile file = parse(mapping.data(), mapping.size(), path);
    file.mapping_ = std::move(mapping);  // the views point into the mapping, which does not move
    return file;
}

SafetensorsFile SafetensorsFile::parse(const uint8_t *image, uint64_t size, const std::string &path) {
    if (size < 8) invalid(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
    const uint64_t header_bytes = read_u64_le(image);
    if (header_bytes > kMaxSafetensorsHeaderBytes) {
        invalid(path, "header length " + std::to_string(header_bytes) + " exceeds the 100 MB limit (not a safetensors file?)");
    }
    if (header_bytes > size - 8) {
        invalid(path, "header length " + std::to_string(header_bytes) + " is past the end of the file (" +
                          std::to_string(size) + " bytes)");
    }
    const uint64_t data_start = 8 + header_bytes;
    const uint64_t data_size = size - data_start;
    const char *header = reinterpret_cast<const char *>(image + 8);
    if (header_bytes == 0 || header[0] != '{') invalid(path, "header does not start with a JSON object '{'");

    nlohmann::json root = nlohmann::json::parse(header, header + header_bytes, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) invalid(path, "header is not valid JSON");
    if (!root.is_object()) invalid(path, "header is not a JSON object");

    SafetensorsFile file;
    file.path_ = path;
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it->is_object()) invalid(path, "'__metadata__' is not an object");
            for (auto meta = it->begin(); meta != it->end(); ++meta) {
                if (!meta->is_string()) invalid(path, "'__metadata__." + printable(meta.key()) + "' is not a string");
                file.metadata_[meta.key()] = meta->get<std::string>();
            }
            continue;
        }
        file.tensors_[it.key()] = parse_entry(path, it.key(), *it, data_size, data_start, image);
    }

    // No two tensors may share bytes (empty tensors occupy none).
    std::vector<const SafeTensor *> by_offset;
    for (const auto &[name, tensor] : file.tensors_) {
        if (tensor.n_bytes) by_offset.push_back(&tensor);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const SafeTensor *a, const SafeTensor *b) { return a->file_offset < b->file_offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const SafeTensor &previous = *by_offset[i - 1];
        if (by_offset[i]->file_offset < previous.file_offset + previous.n_bytes) {
            invalid(path, "tensors '" + printable(previous.name) + "' and '" + printable(by_offset[i]->name) +
                              "' overlap (data_offsets ranges intersect)");
        }
    }
    return file;
}

const SafeTensor *SafetensorsFile::find(const std::string &name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace bitnet::convert
