// A bump allocator over one block of memory, sized once. The same layout code runs twice: first
// with a measuring arena (no memory) to learn the size, then over the real block, so the size
// reported by bitnet_context_memory_required() is exactly what creation uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#if defined(_WIN32)
#include <malloc.h>  // _aligned_malloc
#endif
#include <new>
#include <utility>

namespace bitnet {

class Arena {
public:
    static constexpr size_t kAlignment = 64;  // a cache line, and enough for any SIMD load

    // Measuring arena: hands out null pointers and only counts.
    Arena() = default;
    // Arena over [base, base + capacity); base must be kAlignment-aligned.
    Arena(void *base, size_t capacity) : base_(static_cast<uint8_t *>(base)), capacity_(capacity) {}

    template <class T>
    T *allocate(size_t count) {
        size_t offset = (used_ + kAlignment - 1) / kAlignment * kAlignment;
        size_t bytes = count * sizeof(T);
        used_ = offset + bytes;
        if (!base_) return nullptr;
        if (used_ > capacity_) throw std::bad_alloc();
        return reinterpret_cast<T *>(base_ + offset);
    }

    size_t used() const { return used_; }
    // Total size a measuring pass needs, including the worst-case alignment slack of the end.
    size_t required() const { return (used_ + kAlignment - 1) / kAlignment * kAlignment; }

private:
    uint8_t *base_ = nullptr;
    size_t capacity_ = 0;
    size_t used_ = 0;
};

// Memory owned by a context when the caller supplies none.
class AlignedBuffer {
public:
    AlignedBuffer() = default;
    explicit AlignedBuffer(size_t bytes) {
        if (bytes == 0) return;
        const size_t rounded = (bytes + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment;
#if defined(_WIN32)
        data_ = _aligned_malloc(rounded, Arena::kAlignment);  // Windows' C runtime has no aligned_alloc
#else
        data_ = std::aligned_alloc(Arena::kAlignment, rounded);
#endif
        if (!data_) throw std::bad_alloc();
    }
    AlignedBuffer(const AlignedBuffer &) = delete;
    AlignedBuffer &operator=(const AlignedBuffer &) = delete;
    AlignedBuffer(AlignedBuffer &&other) noexcept : data_(other.data_) { other.data_ = nullptr; }
    AlignedBuffer &operator=(AlignedBuffer &&other) noexcept {
        std::swap(data_, other.data_);
        return *this;
    }
    ~AlignedBuffer() {
#if defined(_WIN32)
        _aligned_free(data_);
#else
        std::free(data_);
#endif
    }
    void *data() const { return data_; }

private:
    void *data_ = nullptr;
};

}  // namespace bitnet
