// The bytes of a whole model file, which every tensor of a model points into: a read-only memory
// mapping, a private copy read into memory, or a view of caller memory.
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

private:
    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
    bool owned_ = false;
};

}  // namespace bitnet
