// MappedFile on POSIX systems: mmap for open(), anonymous memory filled by pread for read().
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "util/error.h"
#include "util/mapped_file.h"

namespace bitnet {

namespace {

// An open, non-empty regular file; closes itself.
struct InputFile {
    int fd = -1;
    size_t size = 0;
    ~InputFile() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

void open_input(const std::string &path, InputFile &file) {
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) fail(BITNET_ERR_IO, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
    struct stat info;
    if (fstat(file.fd, &info) != 0) fail(BITNET_ERR_IO, "cannot stat '%s': %s", path.c_str(), std::strerror(errno));
    if (!S_ISREG(info.st_mode)) fail(BITNET_ERR_IO, "'%s' is not a regular file", path.c_str());
    file.size = MappedFile::checked_file_size(path, static_cast<uint64_t>(info.st_size));
}

}  // namespace

MappedFile MappedFile::read(const std::string &path) {
    InputFile input;
    open_input(path, input);
    void *memory = mmap(nullptr, input.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        fail(BITNET_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes to read '%s' into: %s", input.size, path.c_str(),
             std::strerror(errno));
    }
    MappedFile file;
    file.data_ = static_cast<const uint8_t *>(memory);
    file.size_ = input.size;
    file.owned_ = true;  // from here on the destructor unmaps it, also when reading fails
#if defined(MADV_HUGEPAGE)
    madvise(memory, input.size, MADV_HUGEPAGE);  // fewer TLB misses when streaming weights; a hint
#endif
    auto *out = static_cast<uint8_t *>(memory);
    for (size_t done = 0; done < input.size;) {
        const ssize_t got = ::pread(input.fd, out + done, input.size - done, static_cast<off_t>(done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail(BITNET_ERR_IO, "cannot read '%s' at byte %zu: %s", path.c_str(), done, std::strerror(errno));
        if (got == 0) fail(BITNET_ERR_IO, "'%s' ended at byte %zu while reading %zu bytes", path.c_str(), done, input.size);
        done += static_cast<size_t>(got);
    }
    // Weights are immutable once loaded, as they are in a read-only mapping; a stray write faults.
    mprotect(memory, input.size, PROT_READ);
    return file;
}

MappedFile MappedFile::open(const std::string &path) {
    InputFile input;
    open_input(path, input);
    MappedFile file;
    file.size_ = input.size;
    file.owned_ = true;
    void *mapping = mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, input.fd, 0);
    if (mapping == MAP_FAILED) {
        fail(BITNET_ERR_IO, "cannot map '%s' (%zu bytes): %s", path.c_str(), file.size_, std::strerror(errno));
    }
    file.data_ = static_cast<const uint8_t *>(mapping);
    file.file_ = input.release();
    file.path_ = path;
    return file;
}

void MappedFile::check_not_truncated() const {
    if (file_ == kNoFile) return;
    struct stat info;
    if (fstat(static_cast<int>(file_), &info) != 0) {
        fail(BITNET_ERR_IO, "cannot stat the model file '%s': %s", path_.c_str(), std::strerror(errno));
    }
    if (static_cast<uint64_t>(info.st_size) < size_) {
        fail(BITNET_ERR_IO,
             "the model file '%s' shrank from %zu to %lld bytes since it was mapped: a mapped model's file must not "
             "be truncated or rewritten in place while it is loaded (replace it by renaming a new file over it, or "
             "load with use_mmap = false)",
             path_.c_str(), size_, static_cast<long long>(info.st_size));
    }
}

// Both open()'s mapping and read()'s memory are munmap'ed.
void MappedFile::release(const uint8_t *data, size_t size, intptr_t file) {
    if (data) munmap(const_cast<uint8_t *>(data), size);
    if (file != kNoFile) ::close(static_cast<int>(file));
}

}  // namespace bitnet
