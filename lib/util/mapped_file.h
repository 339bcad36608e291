// The bytes of a whole model file, which every tensor of a model points into: a read-only memory
// mapping, a private copy read into memory, or a view of caller memory.
// open(), read() and check_not_truncated() are per platform: mapped_file_posix.cpp (mmap) and
// mapped_file_windows.cpp (CreateFileMapping/MapViewOfFile), chosen in cmake/platform_sources.cmake;
// mapped_file.cpp holds the shared part. Paths are UTF-8 on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bitnet {

class MappedFile {
public:
    // Map `path` read-only. Throws Error(BITNET_ERR_IO) naming the path and the OS reason.
    static MappedFile open(const std::string &path);
    // Read all of `path` into anonymous memory owned by the result (transparent huge pages where
    // the kernel offers them), read-only once filled. Same errors as open().
    static MappedFile read(const std::string &path);
    // Borrow caller memory; nothing is copied and nothing is freed.
    static MappedFile borrow(const void *data, size_t size);

    MappedFile() = default;
    MappedFile(MappedFile &&other) noexcept;
    MappedFile &operator=(MappedFile &&other) noexcept;
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;
    ~MappedFile();

    const uint8_t *data() const { return data_; }
    size_t size() const { return size_; }
    bool owns_mapping() const { return owned_; }

    // For a file mapping (open()): throws Error(BITNET_ERR_IO) when the file has become shorter
    // than the mapping. Touching a mapped page past the end of a file raises SIGBUS, which would
    // kill the host program, so callers check before computing on the pages (one fstat, ~1 us).
    // A file replaced by rename keeps the mapped inode intact and passes. (Windows refuses to
    // truncate a file while a view of it is mapped, so there the check never fails.) Nothing to check for
    // read() and borrow(). A truncation racing with a computation already running can still fault:
    // the check narrows the window, only use_mmap = false closes it.
    void check_not_truncated() const;

    // Pin the bytes of an owned mapping or copy in physical memory (bitnet_model_params.use_mlock;
    // util/memory_residency.h): "" when locked, else why not, and nothing is locked. The lock
    // ends with the object. Borrowed memory is the caller's and is never locked.
    std::string lock_in_memory();
    bool locked() const { return locked_; }

    // The size of a file about to be mapped or read, as a size_t: fails with
    // BITNET_ERR_UNSUPPORTED when this build cannot address it (over PTRDIFF_MAX: 2 GiB on 32-bit
    // systems) and with BITNET_ERR_INVALID_MODEL when it is empty. Used by both platform files.
    static size_t checked_file_size(const std::string &path, uint64_t file_bytes);

private:
    // Frees what open() or read() acquired (per platform). A valid file_ means data_ is a file
    // view (open()); otherwise an owned data_ is memory read() allocated.
    static void release(const uint8_t *data, size_t size, intptr_t file);

    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
    bool owned_ = false;
    bool locked_ = false;
    // open() only, kept open for check_not_truncated(): a POSIX file descriptor, or a Windows
    // HANDLE stored as an integer; kNoFile otherwise.
    static constexpr intptr_t kNoFile = -1;
    intptr_t file_ = kNoFile;
    std::string path_;  // open() only, for messages
};

}  // namespace bitnet
