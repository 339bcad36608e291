// The safetensors reader (tools/convert/safetensors.h) on valid, truncated and hostile files: every
// bad header gives an Error whose message names the file and what was wrong, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "convert/safetensors.h"
#include "support/hf_checkpoint.h"
#include "util/error.h"

namespace {

using bitnet::convert::Dtype;
using bitnet::convert::SafetensorsFile;

std::vector<uint8_t> with_header(const std::string &header, size_t data_bytes) {
    std::vector<uint8_t> image(8 + header.size() + data_bytes, 0xab);
    for (int i = 0; i < 8; ++i) image[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
    std::memcpy(image.data() + 8, header.data(), header.size());
    return image;
}

std::string error_of(const std::vector<uint8_t> &image) {
    try {
        SafetensorsFile::parse(image.data(), image.size(), "test.safetensors");
    } catch (const bitnet::Error &error) {
        EXPECT_EQ(error.status(), BITNET_ERR_INVALID_MODEL);
        return error.what();
    }
    return "";
}

TEST(Safetensors, ReadsTensorsAsViews) {
    const std::vector<bitnet_test::HfTensor> tensors = {
        {"a", "BF16", {2, 3}, std::vector<uint8_t>(12, 1)},
        {"b.weight", "U8", {4}, {1, 2, 3, 4}},
        {"empty", "F32", {0, 5}, {}},
    };
    const auto image = bitnet_test::safetensors_image(tensors);
    const SafetensorsFile file = SafetensorsFile::parse(image.data(), image.size(), "x.safetensors");
    ASSERT_EQ(file.tensors().size(), 3u);
    const auto *b = file.find("b.weight");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->dtype, Dtype::U8);
    EXPECT_EQ(b->shape, (std::vector<uint64_t>{4}));
    EXPECT_EQ(std::memcmp(b->data, "\x01\x02\x03\x04", 4), 0);
    EXPECT_EQ(file.find("a")->n_bytes, 12u);
    EXPECT_EQ(file.find("empty")->n_elements, 0u);
    EXPECT_EQ(file.metadata().at("format"), "pt");
    EXPECT_EQ(file.find("missing"), nullptr);
}

TEST(Safetensors, EveryTruncationIsAnError) {
    const auto image = bitnet_test::safetensors_image({{"t", "F16", {3, 4}, std::vector<uint8_t>(24, 7)}});
    for (size_t size = 0; size < image.size(); ++size) {
        const std::vector<uint8_t> prefix(image.begin(), image.begin() + static_cast<long>(size));
        EXPECT_NE(error_of(prefix), "") << "accepted a file cut at " << size << " of " << image.size() << " bytes";
    }
    EXPECT_EQ(error_of(image), "");
}

TEST(Safetensors, HostileHeadersGiveMessages) {
    struct Case {
        std::string header;
        size_t data;
        const char *needle;
    };
    const Case cases[] = {
        {"[]", 0, "does not start with a JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "header is not valid JSON"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': unknown dtype 'Q4'"},
        {"{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': field 'dtype' is missing or not a string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape entries must be non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape entries must be non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4, "field 'shape' is missing or not an array"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "element count overflows 64 bits"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", 4, "byte size overflows 64 bits"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 4, "data_offsets end 8 is past the data buffer (4 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "data_offsets begin 4 > end 0"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "data_offsets span 4 bytes but dtype F32 x shape needs 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "field 'data_offsets' must be [begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 4, "is past the data buffer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, "tensors 'a' and 'b' overlap"},
        {"{\"a\":[1,2]}", 0, "tensor 'a': entry is not a JSON object"},
        {"{\"__metadata__\":{\"k\":1}}", 0, "'__metadata__.k' is not a string"},
        {"{\"__metadata__\":[]}", 0, "'__metadata__' is not an object"},
    };
    for (const Case &c : cases) {
        const std::string message = error_of(with_header(c.header, c.data));
        EXPECT_NE(message.find(c.needle), std::string::npos) << "header " << c.header << "\nmessage: " << message;
        EXPECT_NE(message.find("test.safetensors"), std::string::npos) << message;
    }
}

TEST(Safetensors, HeaderLengthIsCheckedBeforeUse) {
    std::vector<uint8_t> image = with_header("{}", 0);
    image[7] = 0x80;  // 2^63 + 2
    EXPECT_NE(error_of(image).find("exceeds the 100 MB limit"), std::string::npos);
    image = with_header("{}", 0);
    image[0] = 200;  // longer than the file
    EXPECT_NE(error_of(image).find("is past the end of the file"), std::string::npos);
    EXPECT_NE(error_of({1, 2, 3}).find("shorter than the 8-byte header length"), std::string::npos);
}

TEST(Safetensors, DeeplyNestedJsonIsRefusedWithoutCrashing) {
    std::string header = "{\"a\":";
    for (int i = 0; i < 100000; ++i) header += "[";
    for (int i = 0; i < 100000; ++i) header += "]";
    header += "}";
    EXPECT_NE(error_of(with_header(header, 0)), "");
}

}  // namespace
