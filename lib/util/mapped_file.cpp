#include "util/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace bitnet {

MappedFile MappedFile::open(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(BITNET_ERR_IO, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
    struct stat info;
    if (fstat(fd, &info) != 0) {
        int saved = errno;
        ::close(fd);
        fail(BITNET_ERR_IO, "cannot stat '%s': %s", path.c_str(), std::strerror(saved));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd);
        fail(BITNET_ERR_IO, "'%s' is not a regular file", path.c_str());
    }
    MappedFile file;
    file.size_ = static_cast<size_t>(info.st_size);
    file.owned_ = true;
    if (file.size_ == 0) {
        ::close(fd);
        fail(BITNET_ERR_INVALID_MODEL, "'%s' is empty (0 bytes)", path.c_str());
    }
    void *mapping = mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    ::close(fd);
    if (mapping == MAP_FAILED) {
        fail(BITNET_ERR_IO, "cannot map '%s' (%zu bytes): %s", path.c_str(), file.size_, std::strerror(saved));
    }
    file.data_ = static_cast<const uint8_t *>(mapping);
    return file;
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
      owned_(std::exchange(other.owned_, false)) {}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
    if (this != &other) {
        this->~MappedFile();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        owned_ = std::exchange(other.owned_, false);
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (owned_ && data_) munmap(const_cast<uint8_t *>(data_), size_);
    data_ = nullptr;
    size_ = 0;
    owned_ = false;
}

}  // namespace bitnet
