// 64-bit sizes on 32-bit systems: a GGUF file's offsets and counts are uint64 (formats.md §1.1,
// §1.3) and a file's size is an off_t, while size_t and the address space may be 32 bits (armhf).
// A size that does not fit is refused with a message naming it, never wrapped into a small one.
// Built by the main build and by the kernel-layer cross build (tests/neon/CMakeLists.txt), whose
// armhf programs tests/armhf/run_armhf_tests.sh runs under qemu-arm: there size_t has 32 bits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "util/checked_math.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(SizeLimits, MappableSizeIsPtrdiffMax) {
    size_t out = 1;
    EXPECT_TRUE(bitnet::checked_mappable_size(0, &out));
    EXPECT_EQ(out, 0u);
    EXPECT_TRUE(bitnet::checked_mappable_size(static_cast<uint64_t>(PTRDIFF_MAX), &out));
    EXPECT_EQ(out, static_cast<size_t>(PTRDIFF_MAX));
    EXPECT_FALSE(bitnet::checked_mappable_size(static_cast<uint64_t>(PTRDIFF_MAX) + 1, &out));
    EXPECT_FALSE(bitnet::checked_mappable_size(UINT64_MAX, &out));
    if (sizeof(size_t) == 4) {
        // 32-bit: 2 GiB and up are refused (the "a model over 2 GiB"); 4 GiB + 1 would
        // wrap to 1 as a size_t.
        EXPECT_TRUE(bitnet::checked_mappable_size(2 * kGiB - 1, &out));
        EXPECT_FALSE(bitnet::checked_mappable_size(2 * kGiB, &out));
        EXPECT_FALSE(bitnet::checked_mappable_size(4 * kGiB + 1, &out));
    } else {
        EXPECT_TRUE(bitnet::checked_mappable_size(5 * kGiB, &out));
        EXPECT_EQ(static_cast<uint64_t>(out), 5 * kGiB);
    }
}

// Little-endian writers for a hand-made GGUF v3 file (formats.md §1.1, §1.3).
void put_u32(std::vector<uint8_t> &out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<uint8_t> &out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_string(std::vector<uint8_t> &out, const std::string &s) {
    put_u64(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

// A GGUF whose one F32 tensor declares 2^31 elements (8 GiB of data: 2^33 bytes, which is 0 when
// wrapped to 32 bits) while the file holds none of it.
TEST(SizeLimits, GgufDeclaringMoreThan4GiBOfTensorDataIsRefused) {
    std::vector<uint8_t> file;
    put_u32(file, 0x46554747u);  // "GGUF"
    put_u32(file, 3);            // version
    put_u64(file, 1);            // tensor count
    put_u64(file, 0);            // metadata count
    put_string(file, "big");
    put_u32(file, 1);                  // n_dims
    put_u64(file, uint64_t{1} << 31);  // ne0
    put_u32(file, 0);                  // type F32
    put_u64(file, 0);                  // offset in the data section
    // §1.4: the data section starts at the next multiple of 32 (the default alignment).
    const uint64_t data_offset = (file.size() + 31) / 32 * 32;
    file.resize(static_cast<size_t>(data_offset) + 64, 0);
    try {
        bitnet::gguf::File::parse(file.data(), file.size());
        FAIL() << "a tensor of 8 GiB in a " << file.size() << "-byte file was accepted";
    } catch (const bitnet::Error &e) {
        EXPECT_EQ(e.status(), BITNET_ERR_INVALID_MODEL) << e.what();
        const std::string expected_range =
            "[" + std::to_string(data_offset) + ", " + std::to_string(data_offset + (uint64_t{1} << 33)) + ")";
        EXPECT_NE(std::string(e.what()).find(expected_range), std::string::npos)
            << "message should name the full 64-bit extent " << expected_range << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find("past the end of the file"), std::string::npos) << e.what();
    }
}

// A (sparse) file of 5 GiB: a 32-bit build refuses to map or read it, naming its size; a 64-bit
// build maps it.
TEST(SizeLimits, FileOverTheAddressSpaceIsRefusedWithItsSize) {
    const char *dir = std::getenv("BITNET_TEST_TMP");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/size_limits_XXXXXX";
    std::vector<char> name(path.begin(), path.end());
    name.push_back('\0');
    const int fd = mkstemp(name.data());
    ASSERT_GE(fd, 0) << "cannot create a temporary file at " << path << ": " << std::strerror(errno);
    path = name.data();
    const uint64_t size = 5 * kGiB;
    const bool grown = ftruncate(fd, static_cast<off_t>(size)) == 0;  // sparse: no disk used
    close(fd);
    if (!grown || sizeof(off_t) < 8) {
        std::remove(path.c_str());
        GTEST_SKIP() << "skipped: this file system or build cannot make a 5 GiB sparse file";
    }
    for (bool read : {false, true}) {
        if (sizeof(size_t) == 8 && read) continue;  // reading 5 GiB into memory is not the point
        try {
            bitnet::MappedFile mapped = read ? bitnet::MappedFile::read(path) : bitnet::MappedFile::open(path);
            EXPECT_EQ(sizeof(size_t), 8u) << "a 32-bit build mapped a 5 GiB file";
            EXPECT_EQ(static_cast<uint64_t>(mapped.size()), size);
        } catch (const bitnet::Error &e) {
            EXPECT_EQ(sizeof(size_t), 4u) << "a 64-bit build refused a 5 GiB file: " << e.what();
            EXPECT_EQ(e.status(), BITNET_ERR_UNSUPPORTED) << e.what();
            EXPECT_NE(std::string(e.what()).find(std::to_string(size) + " bytes"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("32-bit build"), std::string::npos) << e.what();
        }
    }
    std::remove(path.c_str());
}

}  // namespace
