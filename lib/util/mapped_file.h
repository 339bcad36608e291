// A read-only memory mapping of a whole file (or a view of caller memory), the storage every
// model's tensors point into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bitnet {

class MappedFile {
public:
    // Map `path` read-only. Throws Error(BITNET_ERR_IO) naming the path and the OS reason.
    static MappedFile open(const std::string &path);
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
