// Decode must not allocate: every buffer is reserved when the context is created. This program
// replaces the global operator new to count allocations made while decoding.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "bitnet.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {
std::atomic<long> allocations{0};
}

void *operator new(size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void *p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](size_t size) { return operator new(size); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, size_t) noexcept { std::free(p); }
void operator delete[](void *p, size_t) noexcept { std::free(p); }

namespace {

TEST(DecodeAllocations, PromptAndGenerationAllocateNothing) {
    for (const char *format : {"i2_s", "tq2_0", "f32"}) {
        auto model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", format));
        ASSERT_TRUE(model);
        bitnet_test::RunOptions options;
        auto context = bitnet_test::make_context(model.get(), options, 64);
        ASSERT_TRUE(context);
        bitnet_batch *raw = nullptr;
        ASSERT_EQ(bitnet_batch_new(64, &raw), BITNET_OK);
        bitnet_test::BatchPtr batch(raw);
        const int32_t seq = 0;
        // Warm up once (thread pools start on their first parallel region).
        bitnet_batch_add(batch.get(), 1, 0, &seq, 1, true);
        ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK);

        const long before = allocations.load();
        bitnet_batch_clear(batch.get());
        for (int32_t i = 1; i < 33; ++i) bitnet_batch_add(batch.get(), i, i, &seq, 1, i == 32);
        ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
        for (int32_t pos = 33; pos < 48; ++pos) {
            bitnet_batch_clear(batch.get());
            bitnet_batch_add(batch.get(), pos % 7, pos, &seq, 1, true);
            ASSERT_EQ(bitnet_decode(context.get(), batch.get()), BITNET_OK) << bitnet_last_error();
            ASSERT_NE(bitnet_get_logits(context.get(), -1), nullptr);
        }
        EXPECT_EQ(allocations.load() - before, 0) << format << ": decode allocated";
    }
}

}  // namespace
