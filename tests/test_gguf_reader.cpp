// GGUF reader and writer on well-formed input: metadata of every type, tensors of every type at
// aligned offsets, GGUF v2, the shared fixtures, and the BitNet type-id collisions (formats.md §1).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace {

using bitnet::TensorType;
using bitnet::gguf::File;
using bitnet::gguf::TensorInfo;
using bitnet::gguf::Value;
using bitnet::gguf::ValueType;
using bitnet::gguf::Writer;

// Hand-encoded GGUF bytes (formats.md §1.1-1.3), for what the Writer deliberately cannot produce.
struct Bytes {
    std::vector<uint8_t> data;
    Bytes &u8(uint8_t v) {
        data.push_back(v);
        return *this;
    }
    Bytes &u16(uint16_t v) { return u8(v & 0xff).u8(v >> 8); }
    Bytes &u32(uint32_t v) { return u16(v & 0xffff).u16(v >> 16); }
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
    Bytes &array(std::string_view k, ValueType element, uint64_t count) {
        return key(k, ValueType::ARRAY).u32(static_cast<uint32_t>(element)).u64(count);
    }
};

uint32_t f32_bits(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}
uint64_t f64_bits(double v) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    return b;
}

File parse(const std::vector<uint8_t> &bytes) { return File::parse(bytes.data(), bytes.size()); }

template <class Fn> bitnet::Error capture_error(Fn fn) {
    try {
        fn();
    } catch (const bitnet::Error &error) { return error; }
    ADD_FAILURE() << "expected a bitnet::Error";
    return bitnet::Error(BITNET_OK, "");
}

#define EXPECT_ERROR(statement, expected_status, substring)                                        \
    do {                                                                                           \
        bitnet::Error error_ = capture_error([&] { (void)(statement); });                          \
        EXPECT_EQ(error_.status(), expected_status) << error_.what();                              \
        EXPECT_NE(std::string(error_.what()).find(substring), std::string::npos) << error_.what(); \
    } while (0)

// Deterministic filler: byte i of tensor `seed` is a function of both.
Writer::TensorFiller pattern(uint32_t seed) {
    return [seed](uint8_t *destination, uint64_t n_bytes) {
        for (uint64_t i = 0; i < n_bytes; ++i) destination[i] = static_cast<uint8_t>(i * 131 + seed * 17 + (i >> 8));
    };
}

bool matches_pattern(const TensorInfo &tensor, uint32_t seed) {
    std::vector<uint8_t> expected(tensor.n_bytes);
    pattern(seed)(expected.data(), expected.size());
    return std::memcmp(expected.data(), tensor.data, tensor.n_bytes) == 0;
}

// File offset of a tensor info's type id (§1.3: name, n_dims, dims, then the type).
uint64_t type_field_offset(const TensorInfo &tensor) {
    return tensor.info_offset + 8 + tensor.name.size() + 4 + 8 * tensor.n_dims;
}

// A metadata-only file holding one value of every type and an array of every element type.
std::vector<uint8_t> every_type_file() {
    Bytes b;
    b.header(3, 0, 19);
    b.key("t.u8", ValueType::U8).u8(200);
    b.key("t.i8", ValueType::I8).u8(0x80);  // -128
    b.key("t.u16", ValueType::U16).u16(65535);
    b.key("t.i16", ValueType::I16).u16(0x8000);  // -32768
    b.key("t.u32", ValueType::U32).u32(4000000000u);
    b.key("t.i32", ValueType::I32).u32(static_cast<uint32_t>(-7));
    b.key("t.f32", ValueType::F32).u32(f32_bits(1e-5f));
    b.key("t.bool", ValueType::BOOL).u8(1);
    b.key("t.string", ValueType::STRING).str("h\xc3\xa9llo");
    b.key("t.u64", ValueType::U64).u64(std::numeric_limits<uint64_t>::max());
    b.key("t.i64", ValueType::I64).u64(static_cast<uint64_t>(std::numeric_limits<int64_t>::min()));
    b.key("t.f64", ValueType::F64).u64(f64_bits(0.1));
    b.array("a.u8", ValueType::U8, 3).u8(1).u8(2).u8(255);
    b.array("a.i16", ValueType::I16, 2).u16(static_cast<uint16_t>(-2)).u16(300);
    b.array("a.u32", ValueType::U32, 2).u32(0).u32(2147483647u);
    b.array("a.bool", ValueType::BOOL, 3).u8(1).u8(0).u8(1);
    b.array("a.string", ValueType::STRING, 4).str("!").str("").str("\"q\"").str("\xc4\xa0 \xc4\xa0");
    b.array("a.f64", ValueType::F64, 2).u64(f64_bits(-2.5)).u64(f64_bits(1e300));
    b.array("a.empty", ValueType::I32, 0);
    return b.data;
}

void expect_every_type_values(const File &file) {
    EXPECT_EQ(file.get_uint("t.u8"), 200u);
    EXPECT_EQ(file.get_int("t.i8"), -128);
    EXPECT_EQ(file.get_uint("t.u16"), 65535u);
    EXPECT_EQ(file.get_int("t.i16"), -32768);
    EXPECT_EQ(file.get_uint("t.u32"), 4000000000u);
    EXPECT_EQ(file.get_int("t.u32"), 4000000000);
    EXPECT_EQ(file.get_int("t.i32"), -7);
    EXPECT_EQ(file.get_float("t.f32"), static_cast<double>(1e-5f));
    EXPECT_EQ(file.get_bool("t.bool"), true);
    EXPECT_EQ(file.get_string("t.string"), "h\xc3\xa9llo");
    EXPECT_EQ(file.get_uint("t.u64"), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(file.get_int("t.i64"), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(file.get_float("t.f64"), 0.1);
    EXPECT_EQ(file.get_i32_array("a.u8"), (std::vector<int32_t>{1, 2, 255}));
    EXPECT_EQ(file.get_i32_array("a.i16"), (std::vector<int32_t>{-2, 300}));
    EXPECT_EQ(file.get_i32_array("a.u32"), (std::vector<int32_t>{0, 2147483647}));
    EXPECT_EQ(file.get_string_array("a.string"),
              (std::vector<std::string_view>{"!", "", "\"q\"", "\xc4\xa0 \xc4\xa0"}));
    EXPECT_EQ(file.get_i32_array("a.empty"), std::vector<int32_t>{});
    EXPECT_EQ(file.find("a.bool")->value.count, 3u);
    EXPECT_EQ(file.find("a.f64")->value.element_type, ValueType::F64);
}

TEST(GgufReader, ReadsEveryValueTypeExactly) {
    std::vector<uint8_t> bytes = every_type_file();
    File file = parse(bytes);
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(file.metadata().size(), 19u);
    EXPECT_EQ(file.alignment(), 32u);
    EXPECT_EQ(file.architecture(), "");
    EXPECT_TRUE(file.tensors().empty());
    expect_every_type_values(file);
    // Metadata order and offsets are the file's.
    EXPECT_EQ(file.metadata()[0].key, "t.u8");
    EXPECT_EQ(file.metadata()[0].key_offset, 24u);
    EXPECT_EQ(file.metadata()[0].value.offset, 24u + 8 + 4 + 4);
    EXPECT_EQ(file.metadata()[0].value.payload, bytes.data() + file.metadata()[0].value.offset);
}

TEST(GgufReader, AbsentKeysAreNullopt) {
    std::vector<uint8_t> bytes = every_type_file();
    File file = parse(bytes);
    EXPECT_EQ(file.find("missing"), nullptr);
    EXPECT_FALSE(file.get_uint("missing"));
    EXPECT_FALSE(file.get_string("missing"));
    EXPECT_FALSE(file.get_string_array("missing"));
    EXPECT_FALSE(file.get_f32_array("missing"));
}

TEST(GgufReader, GettersRejectIncompatibleTypesNamingTheKey) {
    std::vector<uint8_t> bytes = every_type_file();
    File file = parse(bytes);
    EXPECT_ERROR(file.get_uint("t.i32"), BITNET_ERR_INVALID_MODEL, "key 't.i32' (at byte");
    EXPECT_ERROR(file.get_uint("t.i32"), BITNET_ERR_INVALID_MODEL, "-7 is negative");
    EXPECT_ERROR(file.get_int("t.u64"), BITNET_ERR_INVALID_MODEL, "does not fit");
    EXPECT_ERROR(file.get_uint("t.string"), BITNET_ERR_INVALID_MODEL, "has type STRING; expected an unsigned integer");
    EXPECT_ERROR(file.get_float("t.u32"), BITNET_ERR_INVALID_MODEL, "expected FLOAT32 or FLOAT64");
    EXPECT_ERROR(file.get_bool("t.u8"), BITNET_ERR_INVALID_MODEL, "expected BOOL");
    EXPECT_ERROR(file.get_string("a.string"), BITNET_ERR_INVALID_MODEL, "has type ARRAY of STRING; expected STRING");
    EXPECT_ERROR(file.get_string_array("a.u8"), BITNET_ERR_INVALID_MODEL, "ARRAY of UINT8");
    EXPECT_ERROR(file.get_f32_array("a.f64"), BITNET_ERR_INVALID_MODEL, "expected ARRAY of FLOAT32");
    EXPECT_ERROR(file.get_i32_array("a.f64"), BITNET_ERR_INVALID_MODEL, "a.f64");
}

TEST(GgufReader, I32ArrayRejectsUint32AboveInt32Max) {
    Bytes b;
    b.header(3, 0, 1).array("ids", ValueType::U32, 2).u32(5).u32(0x80000000u);
    File file = parse(b.data);
    EXPECT_ERROR(file.get_i32_array("ids"), BITNET_ERR_INVALID_MODEL, "element 1 (UINT32 2147483648)");
}

TEST(GgufReader, RendersValuesAsText) {
    std::vector<uint8_t> bytes = every_type_file();
    File file = parse(bytes);
    auto render = [&](const char *key, uint64_t max = 8) { return file.render(file.find(key)->value, max); };
    EXPECT_EQ(render("t.u8"), "200");
    EXPECT_EQ(render("t.i8"), "-128");
    EXPECT_EQ(render("t.i64"), "-9223372036854775808");
    EXPECT_EQ(render("t.u64"), "18446744073709551615");
    EXPECT_EQ(render("t.f32"), "1e-05");
    EXPECT_EQ(render("t.f64"), "0.1");
    EXPECT_EQ(render("t.bool"), "true");
    EXPECT_EQ(render("t.string"), "h\xc3\xa9llo");
    EXPECT_EQ(render("a.u8"), "[1, 2, 255]");
    EXPECT_EQ(render("a.bool"), "[true, false, true]");
    EXPECT_EQ(render("a.f64"), "[-2.5, 1e+300]");
    EXPECT_EQ(render("a.string"), "[\"!\", \"\", \"\\\"q\\\"\", \"\xc4\xa0 \xc4\xa0\"]");
    EXPECT_EQ(render("a.string", 2), "[\"!\", \"\", ... (4 total)]");
    EXPECT_EQ(render("a.u8", 0), "[... (3 total)]");
    EXPECT_EQ(render("a.empty"), "[]");
}

TEST(GgufWriter, CopyValueCarriesEveryTypeVerbatim) {
    std::vector<uint8_t> source_bytes = every_type_file();
    File source = parse(source_bytes);
    Writer writer;
    for (const auto &entry : source.metadata()) writer.copy_value(entry.key, source, entry.value);
    std::vector<uint8_t> copied_bytes = writer.write_to_memory();
    File copied = parse(copied_bytes);
    ASSERT_EQ(copied.metadata().size(), source.metadata().size());
    expect_every_type_values(copied);
    for (size_t i = 0; i < source.metadata().size(); ++i) {
        const Value &a = source.metadata()[i].value;
        const Value &b = copied.metadata()[i].value;
        EXPECT_EQ(copied.metadata()[i].key, source.metadata()[i].key);
        EXPECT_EQ(a.type, b.type);
        EXPECT_EQ(a.count, b.count);
        ASSERT_EQ(a.payload_bytes, b.payload_bytes);
        EXPECT_EQ(std::memcmp(a.payload, b.payload, a.payload_bytes), 0);
    }
    // The metadata section is byte-identical, since both files have the same header and keys.
    EXPECT_TRUE(std::equal(source_bytes.begin(), source_bytes.end(), copied_bytes.begin()));
}

TEST(GgufWriter, CopyValueRejectsAValueFromAnotherFile) {
    std::vector<uint8_t> bytes = every_type_file();
    File source = parse(bytes);
    std::vector<uint8_t> other_bytes = bytes;
    File other = parse(other_bytes);
    Writer writer;
    EXPECT_ERROR(writer.copy_value("k", other, source.find("t.u8")->value), BITNET_ERR_INVALID_ARGUMENT,
                 "does not belong");
}

TEST(GgufWriter, SettersRoundTripAndReplaceInPlace) {
    Writer writer;
    writer.set_string("general.architecture", "bitnet-b1.58");
    writer.set_u32("bitnet-b1.58.attention.head_count", 1);
    writer.set_i32("i32", -123456);
    writer.set_u64("u64", 1ull << 40);
    writer.set_f32("bitnet-b1.58.rope.freq_base", 500000.0f);
    writer.set_bool("flag", false);
    writer.set_string_array("tokens", {"a", "", "\xf0\x9f\x98\x80"});
    writer.set_f32_array("scores", {0.0f, -1000.0f, 0.5f});
    writer.set_i32_array("types", {1, 3, -1});
    writer.set_u32("bitnet-b1.58.attention.head_count", 20);  // replaces, keeps position 1
    std::vector<uint8_t> bytes = writer.write_to_memory();
    File file = parse(bytes);
    ASSERT_EQ(file.metadata().size(), 9u);
    EXPECT_EQ(file.metadata()[1].key, "bitnet-b1.58.attention.head_count");
    EXPECT_EQ(file.architecture(), "bitnet-b1.58");
    EXPECT_EQ(file.arch_key("attention.head_count"), "bitnet-b1.58.attention.head_count");
    EXPECT_EQ(file.get_uint(file.arch_key("attention.head_count")), 20u);
    EXPECT_EQ(file.get_float(file.arch_key("rope.freq_base")), 500000.0);
    EXPECT_EQ(file.get_int("i32"), -123456);
    EXPECT_EQ(file.get_uint("u64"), 1ull << 40);
    EXPECT_EQ(file.get_bool("flag"), false);
    EXPECT_EQ(file.get_string_array("tokens"), (std::vector<std::string_view>{"a", "", "\xf0\x9f\x98\x80"}));
    EXPECT_EQ(file.get_f32_array("scores"), (std::vector<float>{0.0f, -1000.0f, 0.5f}));
    EXPECT_EQ(file.get_i32_array("types"), (std::vector<int32_t>{1, 3, -1}));
    EXPECT_FALSE(file.find("general.alignment"));  // default alignment is not written
}

TEST(GgufWriter, RejectsInvalidArguments) {
    EXPECT_ERROR(Writer(3), BITNET_ERR_INVALID_ARGUMENT, "alignment 3");
    EXPECT_ERROR(Writer(0), BITNET_ERR_INVALID_ARGUMENT, "alignment 0");
    Writer writer;
    EXPECT_ERROR(writer.set_u32("general.alignment", 64), BITNET_ERR_INVALID_ARGUMENT, "alignment argument");
    EXPECT_ERROR(writer.add_tensor("q", TensorType::Q8_0, {33, 2}, pattern(0)), BITNET_ERR_INVALID_ARGUMENT,
                 "not a multiple of the q8_0 block size 32");
    EXPECT_ERROR(writer.add_tensor("z", TensorType::F32, {4, 0}, pattern(0)), BITNET_ERR_INVALID_ARGUMENT, "zero");
    EXPECT_ERROR(writer.add_tensor("d", TensorType::F32, {1, 1, 1, 1, 1}, pattern(0)), BITNET_ERR_INVALID_ARGUMENT,
                 "5 dimensions");
    EXPECT_ERROR(writer.add_tensor(std::string(300, 'n'), TensorType::F32, {4}, pattern(0)),
                 BITNET_ERR_INVALID_ARGUMENT, "longer than 256");
    writer.add_tensor("t", TensorType::F32, {4}, pattern(0));
    EXPECT_ERROR(writer.add_tensor("t", TensorType::F32, {4}, pattern(0)), BITNET_ERR_INVALID_ARGUMENT, "duplicate");
}

// Every engine type, written and read back at both the default and a larger alignment.
struct TypeCase {
    TensorType type;
    std::vector<uint64_t> dims;
    uint64_t expected_bytes;
};

std::vector<TypeCase> every_tensor_type() {
    return {
        {TensorType::F32, {7, 3}, 7 * 3 * 4},
        {TensorType::F16, {5}, 5 * 2},
        {TensorType::BF16, {3, 2, 2}, 12 * 2},
        {TensorType::Q4_0, {64, 3}, 6 * 18},
        {TensorType::Q8_0, {32, 5}, 5 * 34},
        {TensorType::Q6_K, {256, 2}, 2 * 210},
        {TensorType::TQ1_0, {512, 1}, 2 * 54},
        {TensorType::TQ2_0, {256, 3}, 3 * 66},
        {TensorType::I2_S, {256, 3}, 256 * 3 / 4 + 32},  // formats.md §2.1
        {TensorType::F32, {1, 1, 1, 2}, 8},
    };
}

void check_every_type_round_trip(uint64_t alignment) {
    SCOPED_TRACE("alignment " + std::to_string(alignment));
    std::vector<TypeCase> cases = every_tensor_type();
    Writer writer(alignment);
    writer.set_string("general.architecture", "bitnet-b1.58");
    for (size_t i = 0; i < cases.size(); ++i) {
        writer.add_tensor("tensor." + std::to_string(i), cases[i].type, cases[i].dims,
                          pattern(static_cast<uint32_t>(i)));
    }
    std::vector<uint8_t> bytes = writer.write_to_memory();
    File file = parse(bytes);
    EXPECT_EQ(file.alignment(), alignment);
    if (alignment != 32) {
        EXPECT_EQ(file.metadata()[0].key, "general.alignment");
        EXPECT_EQ(file.metadata()[0].value.type, ValueType::U32);
        EXPECT_EQ(file.get_uint("general.alignment"), alignment);
    }
    EXPECT_EQ(file.data_offset() % alignment, 0u);
    ASSERT_EQ(file.tensors().size(), cases.size());
    uint64_t expected_offset = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const TensorInfo &tensor = file.tensors()[i];
        SCOPED_TRACE(tensor.name);
        EXPECT_EQ(file.find_tensor(tensor.name), &tensor);
        EXPECT_EQ(tensor.type, cases[i].type);
        EXPECT_EQ(tensor.raw_type, static_cast<uint32_t>(cases[i].type));
        EXPECT_EQ(tensor.n_dims, cases[i].dims.size());
        for (size_t d = 0; d < cases[i].dims.size(); ++d) EXPECT_EQ(tensor.dims[d], cases[i].dims[d]);
        EXPECT_EQ(tensor.n_bytes, cases[i].expected_bytes);
        EXPECT_EQ(tensor.offset, expected_offset);
        EXPECT_EQ(tensor.offset % alignment, 0u);
        EXPECT_EQ(tensor.data, bytes.data() + file.data_offset() + tensor.offset);
        EXPECT_TRUE(matches_pattern(tensor, static_cast<uint32_t>(i)));
        expected_offset += (tensor.n_bytes + alignment - 1) / alignment * alignment;
    }
    EXPECT_EQ(bytes.size(), file.data_offset() + expected_offset);
}

TEST(GgufReader, TensorsOfEveryTypeRoundTripAtAlignedOffsets) {
    check_every_type_round_trip(32);
    check_every_type_round_trip(64);
}

TEST(GgufReader, ShapeHelpers) {
    Writer writer;
    writer.add_tensor("w", TensorType::F32, {8, 3, 2}, pattern(0));
    std::vector<uint8_t> bytes = writer.write_to_memory();
    File file = parse(bytes);
    const TensorInfo *tensor = file.find_tensor("w");
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(tensor->n_elements, 48u);
    EXPECT_EQ(tensor->rows(), 6u);
    EXPECT_EQ(tensor->dims[3], 1u);
    EXPECT_EQ(file.find_tensor("x"), nullptr);
}

TEST(GgufReader, CopiedFileKeepsWorkingIndexes) {
    Writer writer;
    writer.set_u32("k", 9);
    writer.add_tensor("w", TensorType::F32, {4}, pattern(1));
    std::vector<uint8_t> bytes = writer.write_to_memory();
    std::optional<File> original(parse(bytes));
    File copy = *original;
    original.reset();
    EXPECT_EQ(copy.get_uint("k"), 9u);
    ASSERT_NE(copy.find_tensor("w"), nullptr);
    EXPECT_EQ(copy.find_tensor("w"), &copy.tensors()[0]);
}

TEST(GgufReader, AcceptsVersion2) {
    Bytes b;
    b.header(2, 1, 1).key("general.architecture", ValueType::STRING).str("llama");
    b.str("norm").u32(1).u64(8).u32(0).u64(0);  // F32 [8] at offset 0
    b.data.resize((b.data.size() + 31) / 32 * 32, 0);
    uint64_t data_offset = b.data.size();
    for (int i = 0; i < 8; ++i) b.u32(f32_bits(static_cast<float>(i)));
    File file = parse(b.data);
    EXPECT_EQ(file.version(), 2u);
    EXPECT_EQ(file.data_offset(), data_offset);
    const TensorInfo *tensor = file.find_tensor("norm");
    ASSERT_NE(tensor, nullptr);
    float last;
    std::memcpy(&last, tensor->data + 28, 4);
    EXPECT_EQ(last, 7.0f);
}

TEST(GgufReader, VocabOnlyFileWithoutTrailingPaddingIsValid) {
    Writer writer;
    writer.set_string_array("tokenizer.ggml.tokens", {"a", "b"});
    std::vector<uint8_t> bytes = writer.write_to_memory();
    const File padded = parse(bytes);
    const Value &tokens = padded.find("tokenizer.ggml.tokens")->value;
    // Producers of tensor-less files need not pad the (empty) data section.
    std::vector<uint8_t> unpadded_bytes(
        bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(tokens.offset + tokens.payload_bytes));
    ASSERT_NE(unpadded_bytes.size() % 32, 0u);
    File unpadded = parse(unpadded_bytes);
    EXPECT_TRUE(unpadded.tensors().empty());
    EXPECT_EQ(unpadded.get_string_array("tokenizer.ggml.tokens")->size(), 2u);
}

TEST(GgufWriter, FileAndMemoryOutputsAreIdenticalAndMappable) {
    Writer writer(64);
    writer.set_string("general.architecture", "bitnet-b1.58");
    writer.add_tensor("blk.0.attn_q.weight", TensorType::I2_S, {128, 8}, pattern(3));
    writer.add_tensor("token_embd.weight", TensorType::F16, {16, 10}, pattern(4));
    std::string path = bitnet_test::temp_dir() + "/writer.gguf";
    writer.write(path);
    std::vector<uint8_t> in_memory = writer.write_to_memory();
    EXPECT_EQ(bitnet_test::read_file(path), in_memory);

    bitnet::MappedFile mapping = bitnet::MappedFile::open(path);
    File file = File::parse(mapping.data(), mapping.size());
    const TensorInfo *q = file.find_tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, TensorType::I2_S);
    EXPECT_EQ(q->data, mapping.data() + file.data_offset() + q->offset);  // a view, not a copy
    EXPECT_TRUE(matches_pattern(*q, 3));
    EXPECT_TRUE(matches_pattern(*file.find_tensor("token_embd.weight"), 4));
}

TEST(GgufWriter, WriteToAnUnwritablePathIsAnIoError) {
    Writer writer;
    EXPECT_ERROR(writer.write(bitnet_test::temp_dir() + "/no/such/dir/x.gguf"), BITNET_ERR_IO, "cannot create");
}

// --- Type ids 36-39: the BitNet fork and upstream ggml disagree (formats.md §1.5) -------------

std::vector<std::string> captured_warnings;
void capture_log(bitnet_log_level, const char *message, void *) { captured_warnings.emplace_back(message); }

// One I2_S tensor [256, 2] (extent 160 bytes = 128 + 32) followed by an F32 tensor, under `arch`.
std::vector<uint8_t> i2s_file(const std::string &arch) {
    Writer writer;
    writer.set_string("general.architecture", arch);
    writer.add_tensor("blk.0.ffn_up.weight", TensorType::I2_S, {256, 2}, pattern(5));
    writer.add_tensor("output_norm.weight", TensorType::F32, {8}, pattern(6));
    return writer.write_to_memory();
}

void set_type_id(std::vector<uint8_t> &bytes, const std::string &tensor_name, uint32_t id) {
    File file = parse(bytes);
    uint64_t at = type_field_offset(*file.find_tensor(tensor_name));
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(id >> (8 * i));
}

TEST(GgufTypeIds, Id36IsI2sUnderEveryBitnetArchitecture) {
    for (const char *arch : {"bitnet-b1.58", "bitnet-25", "bitnet"}) {
        std::vector<uint8_t> bytes = i2s_file(arch);
        File file = parse(bytes);
        EXPECT_EQ(file.find_tensor("blk.0.ffn_up.weight")->type, TensorType::I2_S) << arch;
    }
}

TEST(GgufTypeIds, Id36UnderLlamaIsResolvedBySizeWithAWarning) {
    // At alignment 64 an I2_S [128, 2] tensor is 96 bytes padded to 128: its extent may be either
    // (the last tensor of a file need not be padded).
    enum Placement { kFirst, kLastPadded, kLastUnpadded };
    for (Placement placement : {kFirst, kLastPadded, kLastUnpadded}) {
        SCOPED_TRACE("placement " + std::to_string(placement));
        Writer writer(64);
        writer.set_string("general.architecture", "llama");
        if (placement != kFirst) writer.add_tensor("output_norm.weight", TensorType::F32, {8}, pattern(6));
        writer.add_tensor("blk.0.ffn_up.weight", TensorType::I2_S, {128, 2}, pattern(5));
        if (placement == kFirst) writer.add_tensor("output_norm.weight", TensorType::F32, {8}, pattern(6));
        std::vector<uint8_t> bytes = writer.write_to_memory();
        if (placement == kLastUnpadded) bytes.resize(bytes.size() - 32);

        captured_warnings.clear();
        bitnet_set_log_callback(capture_log, BITNET_LOG_WARN, nullptr);
        File file = parse(bytes);
        bitnet_set_log_callback(nullptr, BITNET_LOG_WARN, nullptr);

        const TensorInfo *tensor = file.find_tensor("blk.0.ffn_up.weight");
        EXPECT_EQ(tensor->type, TensorType::I2_S);
        EXPECT_EQ(tensor->n_bytes, 128u * 2 / 4 + 32);
        EXPECT_TRUE(matches_pattern(*tensor, 5));
        ASSERT_EQ(captured_warnings.size(), 1u);
        EXPECT_NE(captured_warnings[0].find("resolved as I2_S by its size"), std::string::npos) << captured_warnings[0];
        std::printf("warning: %s\n", captured_warnings[0].c_str());
    }
}

TEST(GgufTypeIds, Id36UnderLlamaWithAnotherSizeIsUnsupported) {
    Writer writer;
    writer.set_string("general.architecture", "llama");
    writer.add_tensor("w", TensorType::F32, {256, 2}, pattern(0));  // 2048 bytes: not an I2_S extent
    writer.add_tensor("n", TensorType::F32, {8}, pattern(1));
    std::vector<uint8_t> bytes = writer.write_to_memory();
    set_type_id(bytes, "w", 36);
    EXPECT_ERROR(parse(bytes), BITNET_ERR_UNSUPPORTED, "IQ4_NL_4_4");
}

TEST(GgufTypeIds, ForkAndUpstreamOnlyIdsAreRefusedByName) {
    struct Case {
        const char *arch;
        uint32_t id;
        bitnet_status status;
        const char *substring;
    };
    const Case cases[] = {
        {"bitnet-b1.58", 37, BITNET_ERR_INVALID_MODEL, "I8_S"},
        {"bitnet-b1.58", 38, BITNET_ERR_UNSUPPORTED,
         "TL1 (id 38) is a build-specific lookup-table layout; convert the model to I2_S"},
        {"bitnet-25", 39, BITNET_ERR_UNSUPPORTED, "TL2 (id 39) is a build-specific lookup-table layout"},
        {"llama", 39, BITNET_ERR_UNSUPPORTED, "MXFP4"},
        {"llama", 38, BITNET_ERR_UNSUPPORTED, "IQ4_NL_8_8"},
        {"llama", 37, BITNET_ERR_UNSUPPORTED, "IQ4_NL_4_8"},
        {"llama", 16, BITNET_ERR_UNSUPPORTED, "type IQ2_XXS (id 16) is not supported"},
        {"llama", 15, BITNET_ERR_UNSUPPORTED, "Q8_K"},
        {"llama", 23, BITNET_ERR_UNSUPPORTED, "IQ4_XS"},
        {"llama", 42, BITNET_ERR_UNSUPPORTED, "Q2_0"},
        {"llama", 4, BITNET_ERR_INVALID_MODEL, "unknown type id 4"},
        {"llama", 43, BITNET_ERR_INVALID_MODEL, "unknown type id 43"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(std::string(c.arch) + " id " + std::to_string(c.id));
        std::vector<uint8_t> bytes = i2s_file(c.arch);
        set_type_id(bytes, "output_norm.weight", c.id);
        EXPECT_ERROR(parse(bytes), c.status, c.substring);
        EXPECT_ERROR(parse(bytes), c.status, "tensor 'output_norm.weight' (info at byte");
    }
}

// --- Shared fixtures ----------------------------------------------------------------------

struct Parsed {
    bitnet::MappedFile mapping;
    File file;
    double milliseconds;
};

Parsed parse_fixture(const std::string &path) {
    bitnet::MappedFile mapping = bitnet::MappedFile::open(path);
    auto start = std::chrono::steady_clock::now();
    File file = File::parse(mapping.data(), mapping.size());
    std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    return Parsed{std::move(mapping), std::move(file), elapsed.count()};
}

TEST(GgufFixtures, Llama3VocabParsesInOnePass) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama3-bpe.gguf");
    Parsed parsed = parse_fixture(path);
    const File &file = parsed.file;
    std::printf("parse of %s (%llu bytes): %.3f ms\n", path.c_str(), static_cast<unsigned long long>(file.size()),
                parsed.milliseconds);
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(file.metadata().size(), 20u);
    EXPECT_TRUE(file.tensors().empty());
    EXPECT_EQ(file.architecture(), "llama");
    EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "llama-bpe");
    EXPECT_EQ(file.get_uint("tokenizer.ggml.bos_token_id"), 128000u);
    EXPECT_EQ(file.get_uint("tokenizer.ggml.eos_token_id"), 128001u);
    EXPECT_EQ(file.get_uint(file.arch_key("vocab_size")), 128256u);
    EXPECT_EQ(file.find("tokenizer.ggml.tokens")->value.count, 128256u);
    EXPECT_EQ(file.find("tokenizer.ggml.merges")->value.count, 280147u);

    auto start = std::chrono::steady_clock::now();
    std::vector<std::string_view> tokens = *file.get_string_array("tokenizer.ggml.tokens");
    std::vector<std::string_view> merges = *file.get_string_array("tokenizer.ggml.merges");
    std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    std::printf("get_string_array of tokens + merges: %.3f ms\n", elapsed.count());
    ASSERT_EQ(tokens.size(), 128256u);
    ASSERT_EQ(merges.size(), 280147u);
    EXPECT_EQ(tokens[0], "!");
    EXPECT_EQ(tokens[128000], "<|begin_of_text|>");
    EXPECT_EQ(merges[0], "\xc4\xa0 \xc4\xa0");  // "Ġ Ġ"
    EXPECT_EQ(file.get_i32_array("tokenizer.ggml.token_type")->size(), 128256u);
    std::printf("tokens = %s\n", file.render(file.find("tokenizer.ggml.tokens")->value, 4).c_str());
}

TEST(GgufFixtures, Llama2SpmVocabParses) {
    BITNET_REQUIRE_FIXTURE(path, "vocab/ggml-vocab-llama-spm.gguf");
    Parsed parsed = parse_fixture(path);
    const File &file = parsed.file;
    EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens")->size(), 32000u);
    EXPECT_EQ(file.get_f32_array("tokenizer.ggml.scores")->size(), 32000u);
    EXPECT_EQ(file.get_bool("tokenizer.ggml.add_bos_token"), true);
    EXPECT_EQ(file.get_bool("tokenizer.ggml.add_eos_token"), false);
}

TEST(GgufFixtures, TinyModelsParse) {
    struct Case {
        const char *path;
        size_t tensors;
        const char *arch;
    };
    for (const Case &c : {Case{"tiny/aidreams260K-f32.gguf", 38, "llama"},
                          Case{"tiny/aidreams260K-bitnet-ternary-f32.gguf", 46, "bitnet"},
                          Case{"tiny/aidreams260K-bitnet-ternary-scaled.gguf", 74, "bitnet"}}) {
        BITNET_REQUIRE_FIXTURE(path, c.path);
        SCOPED_TRACE(c.path);
        Parsed parsed = parse_fixture(path);
        const File &file = parsed.file;
        EXPECT_EQ(file.tensors().size(), c.tensors);
        EXPECT_EQ(file.architecture(), c.arch);
        EXPECT_EQ(file.get_uint(file.arch_key("embedding_length")), 64u);
        EXPECT_EQ(file.get_uint(file.arch_key("block_count")), 4u);
        const TensorInfo *embedding = file.find_tensor("token_embd.weight");
        ASSERT_NE(embedding, nullptr);
        EXPECT_EQ(embedding->type, TensorType::F32);
        EXPECT_EQ(embedding->dims[0], 64u);
        EXPECT_EQ(embedding->dims[1], 512u);
        EXPECT_EQ(embedding->n_bytes, 64u * 512 * 4);
        for (const TensorInfo &tensor : file.tensors()) {
            EXPECT_EQ(tensor.offset % file.alignment(), 0u);
            EXPECT_LE(file.data_offset() + tensor.offset + tensor.n_bytes, file.size());
        }
    }
}

}  // namespace
