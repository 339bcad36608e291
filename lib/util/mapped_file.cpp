// The platform-independent part of MappedFile: borrowing, moving, destroying. The parts that talk
// to the OS are in mapped_file_posix.cpp and mapped_file_windows.cpp.
#include "util/mapped_file.h"

#include <utility>

#include "util/checked_math.h"
#include "util/error.h"
#include "util/memory_residency.h"

namespace bitnet {

size_t MappedFile::checked_file_size(const std::string &path, uint64_t file_bytes) {
    size_t size = 0;
    if (!checked_mappable_size(file_bytes, &size)) {
        fail(BITNET_ERR_UNSUPPORTED, "'%s' is %llu bytes: more than this %zu-bit build can map or read (at most %llu bytes)",
             path.c_str(), static_cast<unsigned long long>(file_bytes), sizeof(void *) * 8,
             static_cast<unsigned long long>(kMaxMappableBytes));
    }
    if (size == 0) fail(BITNET_ERR_INVALID_MODEL, "'%s' is empty (0 bytes)", path.c_str());
    return size;
}

std::string MappedFile::lock_in_memory() {
    if (!owned_) return "the model's memory belongs to the caller (bitnet_model_load_memory): lock it there";
    if (locked_) return "";
    std::string why_not = residency::lock(data_, size_);
    locked_ = why_not.empty();
    return why_not;
}

MappedFile MappedFile::borrow(const void *data, size_t size) {
    MappedFile file;
    file.data_ = static_cast<const uint8_t *>(data);
    file.size_ = size;
    file.owned_ = false;
    return file;
}

MappedFile::MappedFile(MappedFile &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      owned_(std::exchange(other.owned_, false)),
      locked_(std::exchange(other.locked_, false)),
      file_(std::exchange(other.file_, kNoFile)),
      path_(std::move(other.path_)) {}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
    if (this != &other) {
        this->~MappedFile();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        owned_ = std::exchange(other.owned_, false);
        locked_ = std::exchange(other.locked_, false);
        file_ = std::exchange(other.file_, kNoFile);
        path_ = std::move(other.path_);
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (locked_) residency::unlock(data_, size_);  // unmapping would end the lock too; said for clarity
    release(owned_ ? data_ : nullptr, size_, file_);
    file_ = kNoFile;
    path_.clear();
    data_ = nullptr;
    size_ = 0;
    owned_ = false;
    locked_ = false;
}

}  // namespace bitnet
