// The binary interface promises of bitnet.h: parameter structs from older headers (a shorter
// struct_size, with whatever memory follows it) get the defaults for the fields they lack, sizes
// that cannot be a parameter struct are refused, and the version number agrees with the header.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bitnet.h"
#include "model/model.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

constexpr unsigned char kGarbage = 0xAB;

// A caller's struct as an older header laid it out: the first `struct_size` bytes come from
// `chosen`, and the memory after them (up to and beyond the library's own sizeof) holds garbage
// that the library must never read.
template <class Params>
class OlderStruct {
public:
    OlderStruct(const Params &chosen, size_t struct_size, unsigned char garbage = kGarbage) {
        std::memset(bytes_, garbage, sizeof bytes_);
        std::memcpy(bytes_, &chosen, std::min(struct_size, sizeof(Params)));
        std::memcpy(bytes_, &struct_size, sizeof struct_size);
    }
    const Params *get() const { return reinterpret_cast<const Params *>(bytes_); }

private:
    alignas(Params) unsigned char bytes_[sizeof(Params) + 64];
};

// The offsets at which a field of each struct begins, after struct_size: each is the size of an
// older version of the struct that ended just before that field.
const std::vector<size_t> kContextFieldOffsets = {
    offsetof(bitnet_context_params, n_ctx),
    offsetof(bitnet_context_params, n_batch),
    offsetof(bitnet_context_params, n_seq_max),
    offsetof(bitnet_context_params, n_outputs_max),
    offsetof(bitnet_context_params, n_threads),
    offsetof(bitnet_context_params, kv_type),
    offsetof(bitnet_context_params, quantize_activations),
    offsetof(bitnet_context_params, embeddings),
    offsetof(bitnet_context_params, abort_callback),
    offsetof(bitnet_context_params, abort_user_data),
    offsetof(bitnet_context_params, buffer),
    offsetof(bitnet_context_params, buffer_size),
    offsetof(bitnet_context_params, backend),
    offsetof(bitnet_context_params, device_index),
};

const std::vector<size_t> kModelFieldOffsets = {
    offsetof(bitnet_model_params, progress_callback),
    offsetof(bitnet_model_params, progress_user_data),
    offsetof(bitnet_model_params, head_type),
    offsetof(bitnet_model_params, vocab_only),
    offsetof(bitnet_model_params, use_mmap),
    offsetof(bitnet_model_params, metadata_only),
    offsetof(bitnet_model_params, use_mlock),
};

// Sizes no parameter struct can have: shorter than its struct_size member, or longer than the
// struct this library was built with.
template <class Params>
std::vector<size_t> impossible_sizes() {
    return {0, 1, sizeof(size_t) - 1, sizeof(Params) + 1, sizeof(Params) + 8, SIZE_MAX};
}

// Whether the memory at `address` is a mapping of the file at `path` (/proc/self/maps).
bool mapped_from(const void *address, const std::string &path) {
    std::ifstream maps("/proc/self/maps");
    const auto at = reinterpret_cast<uintptr_t>(address);
    for (std::string line; std::getline(maps, line);) {
        unsigned long long first = 0, last = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx", &first, &last) == 2 && at >= first && at < last) {
            return line.find(path) != std::string::npos;
        }
    }
    return false;
}

class ParamsAbi : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = bitnet_test::synthetic_model("tiny", "i2_s");
        model_ = bitnet_test::load_model(path_);
        ASSERT_TRUE(model_);
    }

    // Logits of one token decoded in a fresh context made with `params`.
    std::vector<float> one_token_logits(bitnet_context *context) {
        EXPECT_EQ(bitnet_test::decode_tokens(context, {5}, 0, 0), BITNET_OK) << bitnet_last_error();
        return bitnet_test::logits_copy(context, 0, bitnet_model_n_vocab(model_.get()));
    }

    std::string path_;
    bitnet_test::ModelPtr model_;
};

TEST_F(ParamsAbi, ContextParamsFromAnOlderHeaderGetDefaultsForTheMissingFields) {
    const bitnet_context_params defaults = bitnet_context_default_params();
    bitnet_context *raw = nullptr;
    ASSERT_EQ(bitnet_context_new(model_.get(), &defaults, &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ContextPtr reference(raw);
    const std::vector<float> want = one_token_logits(reference.get());

    // Garbage read as any field would show: n_ctx too large, n_threads and device_index negative,
    // kv_type and backend out of range, embeddings switched on, an abort callback and a caller
    // buffer at wild addresses.
    for (size_t struct_size : kContextFieldOffsets) {
        SCOPED_TRACE("struct_size " + std::to_string(struct_size));
        const OlderStruct<bitnet_context_params> older(defaults, struct_size);
        EXPECT_EQ(bitnet_context_memory_required(model_.get(), older.get()),
                  bitnet_context_memory_required(model_.get(), &defaults));
        raw = nullptr;
        ASSERT_EQ(bitnet_context_new(model_.get(), older.get(), &raw), BITNET_OK) << bitnet_last_error();
        bitnet_test::ContextPtr context(raw);
        EXPECT_EQ(bitnet_context_n_ctx(context.get()), bitnet_context_n_ctx(reference.get()));
        EXPECT_EQ(bitnet_context_n_batch(context.get()), bitnet_context_n_batch(reference.get()));
        EXPECT_EQ(one_token_logits(context.get()), want);
        EXPECT_EQ(bitnet_get_embeddings(context.get(), 0), nullptr);
    }
}

TEST_F(ParamsAbi, ContextParamsKeepTheFieldsAnOlderHeaderHas) {
    // The caller's own values are used up to its struct_size: here n_ctx and n_batch.
    bitnet_context_params chosen = bitnet_context_default_params();
    chosen.n_ctx = 64;
    chosen.n_batch = 16;
    const OlderStruct<bitnet_context_params> older(chosen, offsetof(bitnet_context_params, n_seq_max));
    bitnet_context *raw = nullptr;
    ASSERT_EQ(bitnet_context_new(model_.get(), older.get(), &raw), BITNET_OK) << bitnet_last_error();
    bitnet_test::ContextPtr context(raw);
    EXPECT_EQ(bitnet_context_n_ctx(context.get()), 64u);
    EXPECT_EQ(bitnet_context_n_batch(context.get()), 16u);
}

TEST_F(ParamsAbi, ContextParamsOfImpossibleSizesAreRefused) {
    for (size_t struct_size : impossible_sizes<bitnet_context_params>()) {
        SCOPED_TRACE("struct_size " + std::to_string(struct_size));
        const OlderStruct<bitnet_context_params> params(bitnet_context_default_params(), struct_size);
        bitnet_context *context = reinterpret_cast<bitnet_context *>(0x1);
        EXPECT_EQ(bitnet_context_new(model_.get(), params.get(), &context), BITNET_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(context, nullptr);
        EXPECT_NE(std::string(bitnet_last_error()).find("struct_size"), std::string::npos) << bitnet_last_error();
        EXPECT_EQ(bitnet_context_memory_required(model_.get(), params.get()), 0u);
    }
    const OlderStruct<bitnet_context_params> newer(bitnet_context_default_params(), sizeof(bitnet_context_params) + 8);
    bitnet_context *context = nullptr;
    EXPECT_EQ(bitnet_context_new(model_.get(), newer.get(), &context), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find("newer bitnet.h"), std::string::npos) << bitnet_last_error();
}

TEST_F(ParamsAbi, ModelParamsFromAnOlderHeaderGetDefaultsForTheMissingFields) {
    // Garbage read as a field would show: a progress callback at a wild address, an unknown
    // head_type, vocab_only (no weights: no context), and with zero bytes use_mmap = false (the
    // weights would not be a mapping of the file).
    for (unsigned char garbage : {kGarbage, static_cast<unsigned char>(0)}) {
        for (size_t struct_size : kModelFieldOffsets) {
            SCOPED_TRACE("struct_size " + std::to_string(struct_size) + ", garbage " + std::to_string(garbage));
            const OlderStruct<bitnet_model_params> older(bitnet_model_default_params(), struct_size, garbage);
            bitnet_model *raw = nullptr;
            ASSERT_EQ(bitnet_model_load_file(path_.c_str(), older.get(), &raw), BITNET_OK) << bitnet_last_error();
            bitnet_test::ModelPtr model(raw);
            EXPECT_TRUE(mapped_from(model->mapping.data(), path_));
            bitnet_context *context = nullptr;
            EXPECT_EQ(bitnet_context_new(model.get(), nullptr, &context), BITNET_OK) << bitnet_last_error();
            bitnet_context_free(context);
        }
    }
}

TEST_F(ParamsAbi, ModelParamsOfImpossibleSizesAreRefused) {
    for (size_t struct_size : impossible_sizes<bitnet_model_params>()) {
        SCOPED_TRACE("struct_size " + std::to_string(struct_size));
        const OlderStruct<bitnet_model_params> params(bitnet_model_default_params(), struct_size);
        bitnet_model *model = reinterpret_cast<bitnet_model *>(0x1);
        EXPECT_EQ(bitnet_model_load_file(path_.c_str(), params.get(), &model), BITNET_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(model, nullptr);
        const std::vector<uint8_t> image = bitnet_test::read_file(path_);
        std::vector<uint64_t> aligned((image.size() + 7) / 8);
        std::memcpy(aligned.data(), image.data(), image.size());
        EXPECT_EQ(bitnet_model_load_memory(aligned.data(), image.size(), params.get(), &model),
                  BITNET_ERR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(bitnet_last_error()).find("struct_size"), std::string::npos) << bitnet_last_error();
    }
}

TEST(SamplerChainParamsAbi, FromAnOlderHeaderGetDefaultPerformanceTiming) {
    // A struct that ends before no_perf, followed by a byte that would read as no_perf = true:
    // the chain must still time its samples (the default).
    const OlderStruct<bitnet_sampler_chain_params> older(bitnet_sampler_chain_default_params(),
                                                         offsetof(bitnet_sampler_chain_params, no_perf), 1);
    bitnet_sampler *chain = nullptr;
    ASSERT_EQ(bitnet_sampler_chain_new(older.get(), &chain), BITNET_OK) << bitnet_last_error();
    bitnet_sampler *greedy = nullptr;
    ASSERT_EQ(bitnet_sampler_init_greedy(&greedy), BITNET_OK);
    ASSERT_EQ(bitnet_sampler_chain_add(chain, greedy), BITNET_OK);
    const float logits[3] = {0.0f, 2.0f, 1.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain, logits, 3), 1);
    EXPECT_EQ(bitnet_sampler_perf(chain).n_sample, 1);
    bitnet_sampler_free(chain);
}

TEST(SamplerChainParamsAbi, OfImpossibleSizesAreRefused) {
    for (size_t struct_size : impossible_sizes<bitnet_sampler_chain_params>()) {
        SCOPED_TRACE("struct_size " + std::to_string(struct_size));
        const OlderStruct<bitnet_sampler_chain_params> params(bitnet_sampler_chain_default_params(), struct_size);
        bitnet_sampler *chain = reinterpret_cast<bitnet_sampler *>(0x1);
        EXPECT_EQ(bitnet_sampler_chain_new(params.get(), &chain), BITNET_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(chain, nullptr);
        EXPECT_NE(std::string(bitnet_last_error()).find("struct_size"), std::string::npos) << bitnet_last_error();
    }
}

TEST(ParamsAbiDefaults, EachDefaultParamsFunctionReportsTheLibrarysOwnSize) {
    EXPECT_EQ(bitnet_model_default_params().struct_size, sizeof(bitnet_model_params));
    EXPECT_EQ(bitnet_context_default_params().struct_size, sizeof(bitnet_context_params));
    EXPECT_EQ(bitnet_sampler_chain_default_params().struct_size, sizeof(bitnet_sampler_chain_params));
}

TEST(VersionAbi, LibraryVersionNumberMatchesTheHeader) {
    EXPECT_EQ(bitnet_version_number(), BITNET_VERSION_NUMBER);
    EXPECT_EQ(BITNET_VERSION_NUMBER,
              BITNET_VERSION_MAJOR * 10000 + BITNET_VERSION_MINOR * 100 + BITNET_VERSION_PATCH);
    // The number and the string describe the same version.
    const int number = bitnet_version_number();
    EXPECT_EQ(std::string(bitnet_version()), std::to_string(number / 10000) + "." +
                                                 std::to_string(number / 100 % 100) + "." +
                                                 std::to_string(number % 100));
}

}  // namespace
