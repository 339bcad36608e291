// The platform-independent part of MappedFile: borrowing, moving, destroying. The parts that talk
// to the OS are in mapped_file_posix.cpp and mapped_file_windows.cpp.
#include "util/mapped_file.h"

#include <utility>

namespace bitnet {

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
      file_(std::exchange(other.file_, kNoFile)),
      path_(std::move(other.path_)) {}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
    if (this != &other) {
        this->~MappedFile();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        owned_ = std::exchange(other.owned_, false);
        file_ = std::exchange(other.file_, kNoFile);
        path_ = std::move(other.path_);
    }
    return *this;
}

MappedFile::~MappedFile() {
    release(owned_ ? data_ : nullptr, size_, file_);
    file_ = kNoFile;
    path_.clear();
    data_ = nullptr;
    size_ = 0;
    owned_ = false;
}

}  // namespace bitnet
