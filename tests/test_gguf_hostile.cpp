// The GGUF reader on truncated, corrupted and hand-crafted hostile files: every input must end in
// a bitnet::Error or a fully valid File, never a crash, a hang or undefined behaviour (this suite
// runs under ASan and UBSan). Every image is parsed from a heap buffer of exactly its size, so any
// read past the end is caught.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace {

using bitnet::TensorType;
using bitnet::gguf::File;
using bitnet::gguf::TensorInfo;
using bitnet::gguf::ValueType;
using bitnet::gguf::Writer;

// Hand-encoded GGUF bytes (formats.md §1.1-1.3).
struct Bytes {
    std::vector<uint8_t> data;
    Bytes &u8(uint8_t v) {
        data.push_back(v);
        return *this;
    }
    Bytes &u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    Bytes &u64(uint64_t v) { return u32(static_cast<uint32_t>(v)).u32(static_cast<uint32_t>(v >> 32)); }
    Bytes &str(std::string_view s) {
        u64(s.size());
        data.insert(data.end(), s.begin(), s.end());
        return *this;
    }
    Bytes &header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
        data.insert(data.end(), {'G', 'G', 'U', 'F'});
        return u32(version).u64(n_tensors).u64(n_kv);
    }
    Bytes &key(std::string_view k, ValueType type) { return str(k).u32(static_cast<uint32_t>(type)); }
    Bytes &kv_u32(std::string_view k, uint32_t v) { return key(k, ValueType::U32).u32(v); }
    Bytes &kv_string(std::string_view k, std::string_view v) { return key(k, ValueType::STRING).str(v); }
    Bytes &array(std::string_view k, ValueType element, uint64_t count) {
        return key(k, ValueType::ARRAY).u32(static_cast<uint32_t>(element)).u64(count);
    }
    Bytes &tensor(std::string_view name, const std::vector<uint64_t> &dims, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(dims.size()));
        for (uint64_t dim : dims) u64(dim);
        return u32(type).u64(offset);
    }
    Bytes &pad_to(uint64_t alignment) {
        data.resize((data.size() + alignment - 1) / alignment * alignment, 0);
        return *this;
    }
    Bytes &zeros(uint64_t n) {
        data.resize(data.size() + n, 0);
        return *this;
    }
};

constexpr uint32_t kF32 = 0, kQ8_0 = 8;

// A file of tensors described by raw infos, arch `arch`, with `data_bytes` zero bytes of data.
struct RawTensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;
    uint64_t offset;
};
std::vector<uint8_t> tensor_file(const std::vector<RawTensor> &tensors, uint64_t data_bytes,
                                 const std::string &arch = "llama") {
    Bytes b;
    b.header(3, tensors.size(), 1).kv_string("general.architecture", arch);
    for (const RawTensor &t : tensors) b.tensor(t.name, t.dims, t.type, t.offset);
    return b.pad_to(32).zeros(data_bytes).data;
}

// The valid file the truncation and corruption sweeps start from: a few keys including a string
// array, and four tensors including an I2_S one.
std::vector<uint8_t> valid_file() {
    Writer writer;
    writer.set_string("general.architecture", "bitnet-b1.58");
    writer.set_u32("bitnet-b1.58.block_count", 1);
    writer.set_f32("bitnet-b1.58.rope.freq_base", 500000.0f);
    writer.set_bool("tokenizer.ggml.add_bos_token", true);
    writer.set_string_array("tokenizer.ggml.tokens", {"<s>", "a", "b", "\xc4\xa0the", ""});
    writer.set_i32_array("tokenizer.ggml.token_type", {3, 1, 1, 1, 1});
    auto fill = [](uint8_t *destination, uint64_t n) {
        for (uint64_t i = 0; i < n; ++i) destination[i] = static_cast<uint8_t>(i * 7 + 1);
    };
    writer.add_tensor("output_norm.weight", TensorType::F32, {16}, fill);
    writer.add_tensor("blk.0.attn_q.weight", TensorType::I2_S, {128, 2}, fill);
    writer.add_tensor("blk.0.ffn_down.weight", TensorType::Q8_0, {32, 2}, fill);
    writer.add_tensor("token_embd.weight", TensorType::F16, {16, 5}, fill);
    return writer.write_to_memory();
}

enum class Outcome { kValid, kInvalidModel, kUnsupported, kOtherError };

// Parse, and on success touch everything the File exposes, so that a File that "succeeded" with
// wrong bounds is caught by the sanitizers too.
Outcome parse_and_use(const std::vector<uint8_t> &image, std::string *message) {
    try {
        File file = File::parse(image.data(), image.size());
        for (const auto &entry : file.metadata()) {
            (void)file.render(entry.value, 1u << 20);
            if (entry.value.type == ValueType::ARRAY && entry.value.element_type == ValueType::STRING) {
                (void)file.get_string_array(entry.key);
            }
            EXPECT_EQ(file.find(entry.key), &entry);
        }
        unsigned checksum = 0;
        for (const TensorInfo &tensor : file.tensors()) {
            for (uint64_t i = 0; i < tensor.n_bytes; ++i) checksum += tensor.data[i];
            EXPECT_EQ(file.find_tensor(tensor.name), &tensor);
        }
        (void)checksum;
        return Outcome::kValid;
    } catch (const bitnet::Error &error) {
        *message = error.what();
        if (error.status() == BITNET_ERR_INVALID_MODEL) return Outcome::kInvalidModel;
        if (error.status() == BITNET_ERR_UNSUPPORTED) return Outcome::kUnsupported;
        return Outcome::kOtherError;
    }
}

// Messages carry offsets and sizes; with digits folded away, similar errors group together.
std::string message_shape(const std::string &message) {
    std::string shape;
    for (char c : message) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (shape.empty() || shape.back() != '#') shape += '#';
        } else {
            shape += c;
        }
    }
    return shape;
}

TEST(GgufHostile, ValidBaseFileParses) {
    std::vector<uint8_t> bytes = valid_file();
    File file = File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(file.tensors().size(), 4u);
    EXPECT_EQ(file.find_tensor("blk.0.attn_q.weight")->type, TensorType::I2_S);
    std::printf("base file: %zu bytes, data section at byte %llu\n", bytes.size(),
                static_cast<unsigned long long>(file.data_offset()));
}

TEST(GgufHostile, EveryTruncationIsRejected) {
    const std::vector<uint8_t> bytes = valid_file();
    std::map<std::string, std::pair<size_t, std::string>> shapes;
    for (size_t length = 0; length < bytes.size(); ++length) {
        std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
        std::string message;
        Outcome outcome = parse_and_use(truncated, &message);
        ASSERT_EQ(outcome, Outcome::kInvalidModel) << "length " << length << ": " << message;
        auto &[count, example] = shapes[message_shape(message)];
        if (count++ == 0) example = message;
    }
    std::printf("%zu truncations, all INVALID_MODEL; %zu kinds of message:\n", bytes.size(), shapes.size());
    for (const auto &[shape, seen] : shapes) std::printf("  %5zu x  %s\n", seen.first, seen.second.c_str());
}

TEST(GgufHostile, SingleByteCorruptionsNeverCrash) {
    const std::vector<uint8_t> original = valid_file();
    const uint64_t region = File::parse(original.data(), original.size()).data_offset();
    std::vector<uint8_t> image = original;  // exactly sized: ASan sees any overrun
    std::map<Outcome, size_t> outcomes;
    std::map<std::string, std::pair<size_t, std::string>> shapes;
    for (uint64_t at = 0; at < region; ++at) {
        const uint8_t byte = original[at];
        for (uint8_t value :
             {uint8_t{0x00}, uint8_t{0xFF}, static_cast<uint8_t>(byte ^ 0x80), static_cast<uint8_t>(byte + 1)}) {
            if (value == byte) continue;
            image[at] = value;
            std::string message;
            Outcome outcome = parse_and_use(image, &message);
            ++outcomes[outcome];
            EXPECT_NE(outcome, Outcome::kOtherError) << "byte " << at << " = " << int{value} << ": " << message;
            if (!message.empty()) {
                auto &[count, example] = shapes[message_shape(message)];
                if (count++ == 0) example = message;
            }
        }
        image[at] = byte;
    }
    std::printf(
        "corrupted each of %llu header/metadata/tensor-info bytes: valid %zu, INVALID_MODEL %zu, "
        "UNSUPPORTED %zu, other %zu\n",
        static_cast<unsigned long long>(region), outcomes[Outcome::kValid], outcomes[Outcome::kInvalidModel],
        outcomes[Outcome::kUnsupported], outcomes[Outcome::kOtherError]);
    std::printf("%zu kinds of message (count x first example):\n", shapes.size());
    for (const auto &[shape, seen] : shapes) std::printf("  %5zu x  %s\n", seen.first, seen.second.c_str());
    EXPECT_GT(outcomes[Outcome::kInvalidModel], 0u);
}

// --- Targeted hostile inputs --------------------------------------------------------------

// The parse that keeps unrunnable tensor types (bitnet inspect) is as strict about everything
// else: it fails with the same message, or, when only a tensor's type was the problem, succeeds
// with that message recorded on the tensor.
void expect_same_verdict_keeping_unrunnable_types(const std::vector<uint8_t> &image, const std::string &strict) {
    bitnet::gguf::ParseOptions options;
    options.keep_unrunnable_types = true;
    try {
        const File file = File::parse(image.data(), image.size(), options);
        bool recorded = false;
        unsigned checksum = 0;  // every kept extent is readable (the sanitizers check)
        for (const TensorInfo &tensor : file.tensors()) {
            recorded = recorded || tensor.unrunnable == strict;
            for (uint64_t i = 0; i < tensor.n_bytes; ++i) checksum += tensor.data[i];
        }
        (void)checksum;
        EXPECT_TRUE(recorded) << "kept-types parse accepted a file the strict one refused with: " << strict;
    } catch (const bitnet::Error &error) {
        EXPECT_EQ(std::string(error.what()), strict);
    }
}

void expect_rejected(const std::vector<uint8_t> &image, bitnet_status status, const std::string &substring) {
    std::string message;
    Outcome outcome = parse_and_use(image, &message);
    Outcome expected = status == BITNET_ERR_UNSUPPORTED ? Outcome::kUnsupported : Outcome::kInvalidModel;
    EXPECT_EQ(outcome, expected) << message;
    EXPECT_NE(message.find(substring), std::string::npos) << "message: " << message << "\nexpected: " << substring;
    std::printf("  %s\n", message.c_str());
    expect_same_verdict_keeping_unrunnable_types(image, message);
}

void expect_invalid(const std::vector<uint8_t> &image, const std::string &substring) {
    expect_rejected(image, BITNET_ERR_INVALID_MODEL, substring);
}

TEST(GgufHostile, HeaderFields) {
    expect_invalid({}, "magic at byte 0 needs 4 bytes but only 0 remain");
    std::vector<uint8_t> bad_magic = Bytes().header(3, 0, 0).data;
    bad_magic[3] = 'X';
    expect_invalid(bad_magic, "bad magic at byte 0: expected \"GGUF\" (47 47 55 46), found 47 47 55 58");
    expect_invalid(Bytes().header(1, 0, 0).data, "version 1 at byte 4 is not supported");
    expect_invalid(Bytes().header(0, 0, 0).data, "unsupported version 0 at byte 4");
    expect_invalid(Bytes().header(4, 0, 0).data, "unsupported version 4 at byte 4 (supported: 2 and 3)");
    expect_invalid(Bytes().header(0x03000000u, 0, 0).data, "byte-swapped");
    expect_invalid(Bytes().header(3, 0, 1ull << 40).data, "metadata_kv_count at byte 16 is 1099511627776");
    expect_invalid(Bytes().header(3, 1ull << 40, 0).data, "tensor_count at byte 8 is 1099511627776");
    expect_invalid(Bytes().header(3, ~0ull, ~0ull).data, "metadata_kv_count");
    // Each count alone fits, together they do not.
    Bytes both;
    both.header(3, 1, 1).zeros(40);
    expect_invalid(both.data, "cannot fit in the 40 bytes after the header");
}

TEST(GgufHostile, HeaderOnlyFileIsValid) {
    std::vector<uint8_t> image = Bytes().header(3, 0, 0).data;
    std::string message;
    EXPECT_EQ(parse_and_use(image, &message), Outcome::kValid) << message;
}

TEST(GgufHostile, MetadataValues) {
    expect_invalid(Bytes().header(3, 0, 1).key("a", ValueType::STRING).u64(1ull << 63).data,
                   "key 'a' (at byte 24): string length 9223372036854775808 at byte 37 exceeds the 0 bytes left");
    expect_invalid(Bytes().header(3, 0, 1).u64(1ull << 63).zeros(8).data,
                   "key of metadata entry 0 length 9223372036854775808 at byte 24 exceeds the limit of 65535 bytes");
    expect_invalid(Bytes().header(3, 0, 1).array("a", ValueType::U32, 1ull << 62).zeros(8).data,
                   "4611686018427387904 UINT32 value(s) at byte 49");
    expect_invalid(Bytes().header(3, 0, 1).array("a", ValueType::U64, ~0ull).zeros(8).data, "UINT64 value(s)");
    expect_invalid(Bytes().header(3, 0, 1).array("a", ValueType::STRING, 1ull << 60).zeros(16).data,
                   "array of 1152921504606846976 strings at byte 49 cannot fit");
    expect_invalid(Bytes().header(3, 0, 1).array("a", ValueType::STRING, 2).str("x").u64(1ull << 63).data,
                   "string 1 of the array length 9223372036854775808");
    expect_invalid(Bytes().header(3, 0, 1).key("flag", ValueType::BOOL).u8(2).data,
                   "key 'flag' (at byte 24): BOOL value 2 at byte 40 must be 0 or 1");
    expect_invalid(Bytes().header(3, 0, 1).array("flags", ValueType::BOOL, 3).u8(1).u8(0).u8(7).data,
                   "BOOL value 7 at byte 55");
    expect_invalid(Bytes().header(3, 0, 1).key("a", ValueType::U8).data, "UINT8 value(s) at byte 37");
    expect_invalid(Bytes().header(3, 0, 1).str("a").u32(13).u32(0).data, "unknown value type 13 at byte 33");
    expect_invalid(Bytes().header(3, 0, 1).array("a", static_cast<ValueType>(99), 1).u32(0).data,
                   "unknown array element type 99");
    expect_invalid(Bytes().header(3, 0, 1).array("nested", ValueType::ARRAY, 1).u32(4).u64(1).u32(1).data,
                   "key 'nested' (at byte 24): nested arrays (array of array");
    expect_invalid(Bytes().header(3, 0, 2).kv_u32("k", 1).kv_u32("k", 2).data,
                   "key 'k' (at byte 41): duplicate key (first defined at byte 24)");
}

TEST(GgufHostile, GeneralKeys) {
    expect_invalid(Bytes().header(3, 0, 1).kv_string("general.alignment", "64").data,
                   "key 'general.alignment' (at byte 24): has type STRING; expected UINT32");
    expect_invalid(Bytes().header(3, 0, 1).key("general.alignment", ValueType::U64).u64(32).data,
                   "has type UINT64; expected UINT32");
    expect_invalid(Bytes().header(3, 0, 1).kv_u32("general.alignment", 0).data,
                   "alignment 0 is not a nonzero power of two");
    expect_invalid(Bytes().header(3, 0, 1).kv_u32("general.alignment", 3).data,
                   "alignment 3 is not a nonzero power of two");
    expect_invalid(Bytes().header(3, 0, 1).kv_u32("general.architecture", 1).data,
                   "key 'general.architecture' (at byte 24): has type UINT32; expected STRING");
}

TEST(GgufHostile, TensorInfos) {
    expect_invalid(tensor_file({{"a", {8}, kF32, 0}, {"a", {8}, kF32, 32}}, 64),
                   "tensor 'a' (info at byte 102): duplicate tensor name (first defined at byte 69)");
    expect_invalid(tensor_file({{"a", {1, 1, 1, 1, 1}, kF32, 0}}, 32),
                   "tensor 'a' (info at byte 69): n_dims 5 at byte 78 is out of range (1..4)");
    expect_invalid(tensor_file({{"a", {}, kF32, 0}}, 32), "n_dims 0");
    expect_invalid(tensor_file({{"a", {8, 0}, kF32, 0}}, 32),
                   "tensor 'a' (info at byte 69): dimension 1 at byte 90 is 0");
    expect_invalid(tensor_file({{"a", {1ull << 32, 1ull << 32, 1ull << 32}, kF32, 0}}, 32),
                   "element count of shape [4294967296, 4294967296, 4294967296] overflows");
    expect_invalid(tensor_file({{"a", {1ull << 62, 4}, kF32, 0}}, 32), "overflows");
    expect_invalid(tensor_file({{std::string(257, 'n'), {8}, kF32, 0}}, 32),
                   "name of tensor info 0 length 257 at byte 69 exceeds the limit of 256 bytes");
    expect_invalid(tensor_file({{"a", {8}, 99, 0}}, 32), "tensor 'a' (info at byte 69): unknown type id 99");
    expect_invalid(tensor_file({{"q", {33, 2}, kQ8_0, 0}}, 128),
                   "row length ne0 = 33 is not a multiple of the q8_0 block size 32");
    // A name with control bytes is escaped in the message.
    expect_invalid(tensor_file({{"a\nb", {8}, 99, 0}}, 32), "tensor 'a\\x0ab'");
}

TEST(GgufHostile, TensorPlacement) {
    expect_invalid(tensor_file({{"a", {8}, kF32, 16}}, 64),
                   "tensor 'a' (info at byte 69): offset 16 is not a multiple of the alignment 32");
    expect_invalid(tensor_file({{"a", {8}, kF32, 0}, {"b", {16}, kF32, 32}}, 64),
                   "tensor 'b' (info at byte 102): data [192, 256) extends past the end of the file (224 bytes)");
    expect_invalid(tensor_file({{"a", {8}, kF32, 1ull << 40}}, 32),
                   "offset 1099511627776 (data section at byte 128) is past the end of the file (160 bytes)");
    expect_invalid(tensor_file({{"a", {8}, kF32, ~0ull << 5}}, 32), "is past the end of the file");
    expect_invalid(tensor_file({{"a", {16}, kF32, 0}, {"b", {8}, kF32, 32}}, 96),
                   "tensor 'b' (info at byte 102): data [192, 224) overlaps tensor 'a' at [160, 224)");
    expect_invalid(tensor_file({{"a", {8}, kF32, 32}, {"b", {8}, kF32, 32}}, 96), "overlaps tensor 'a'");
    // Not in info order, and with a gap: allowed (only overlap is an error).
    std::string message;
    EXPECT_EQ(parse_and_use(tensor_file({{"a", {8}, kF32, 64}, {"b", {8}, kF32, 0}}, 96), &message), Outcome::kValid)
        << message;
}

TEST(GgufHostile, LookupTableTypesAreUnsupported) {
    expect_rejected(tensor_file({{"w", {128, 2}, 38, 0}}, 128, "bitnet-b1.58"), BITNET_ERR_UNSUPPORTED,
                    "tensor 'w' (info at byte 76): type TL1 (id 38) is a build-specific lookup-table layout; "
                    "convert the model to I2_S");
}

}  // namespace
