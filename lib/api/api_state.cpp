// C API: saving and loading context and sequence states, to memory and to files.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "api/guard.h"
#include "bitnet.h"
#include "state/state_file.h"
#include "util/file_path.h"
#include "util/mapped_file.h"

namespace {

using bitnet::StateKind;

size_t bound(const bitnet_context *context, StateKind kind, int32_t seq, const char *function) {
    size_t bytes = 0;
    bitnet::api_guard(function, [&] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        bytes = bitnet::state_size_bound(*context, kind, seq);
    });
    return bytes;
}

bitnet_status save(bitnet_context *context, StateKind kind, int32_t seq, void *buf, size_t capacity, size_t *written,
                   const char *function) {
    if (written) *written = 0;
    return bitnet::api_guard(function, [&] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        bitnet::require_argument(buf != nullptr || capacity == 0, function, "buf is NULL");
        size_t n = bitnet::save_state(*context, kind, seq, static_cast<uint8_t *>(buf), capacity);
        if (written) *written = n;
    });
}

bitnet_status load(bitnet_context *context, StateKind kind, int32_t seq, const void *data, size_t size,
                   const char *function) {
    return bitnet::api_guard(function, [&] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        bitnet::require_argument(data != nullptr, function, "data is NULL");
        bitnet::load_state(*context, kind, seq, static_cast<const uint8_t *>(data), size);
    });
}

// Written next to the target and renamed over it, so a failed save never destroys an older file.
bitnet_status save_file(bitnet_context *context, StateKind kind, int32_t seq, const char *path, const char *function) {
    return bitnet::api_guard(function, [&] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        bitnet::require_argument(path != nullptr, function, "path is NULL");
        // Not a std::vector: zero-filling the bound would cost as much as writing it.
        const size_t capacity = bitnet::state_size_bound(*context, kind, seq);
        std::unique_ptr<uint8_t[]> bytes(new uint8_t[capacity]);
        const size_t size = bitnet::save_state(*context, kind, seq, bytes.get(), capacity);
        std::string temporary = std::string(path) + ".tmp";
        FILE *file = bitnet::open_file(temporary, "wb");  // UTF-8 paths on Windows too
        if (!file) bitnet::fail(BITNET_ERR_IO, "%s: cannot create '%s': %s", function, temporary.c_str(), std::strerror(errno));
        bool ok = std::fwrite(bytes.get(), 1, size, file) == size;
        ok = (std::fclose(file) == 0) && ok;
        if (!ok || !bitnet::replace_file(temporary, path)) {
            int saved = errno;
            bitnet::remove_file(temporary);
            bitnet::fail(BITNET_ERR_IO, "%s: writing '%s' failed: %s", function, path, std::strerror(saved));
        }
    });
}

bitnet_status load_file(bitnet_context *context, StateKind kind, int32_t seq, const char *path, const char *function) {
    return bitnet::api_guard(function, [&] {
        bitnet::require_argument(context != nullptr, function, "context is NULL");
        bitnet::require_argument(path != nullptr, function, "path is NULL");
        bitnet::MappedFile file;
        try {
            file = bitnet::MappedFile::open(path);
        } catch (const bitnet::Error &error) {
            // MappedFile reports an empty file as an invalid model; for a state it is a malformed
            // state (a cut-off save). Missing or unreadable files stay I/O errors.
            if (error.status() != BITNET_ERR_INVALID_MODEL) throw;
            bitnet::fail(BITNET_ERR_INVALID_STATE, "%s: state file '%s' is empty (0 bytes): not a saved state",
                         function, path);
        }
        try {
            bitnet::load_state(*context, kind, seq, file.data(), file.size());
        } catch (const bitnet::Error &error) {
            if (error.status() != BITNET_ERR_INVALID_STATE) throw;
            bitnet::fail(BITNET_ERR_INVALID_STATE, "%s: state file '%s' (%zu bytes): %s", function, path, file.size(),
                         error.what());
        }
    });
}

}  // namespace

extern "C" {

BITNET_API size_t bitnet_state_size(const bitnet_context *context) {
    return bound(context, StateKind::Context, 0, __func__);
}
BITNET_API bitnet_status bitnet_state_save(bitnet_context *context, void *buf, size_t capacity, size_t *written) {
    return save(context, StateKind::Context, 0, buf, capacity, written, __func__);
}
BITNET_API bitnet_status bitnet_state_load(bitnet_context *context, const void *data, size_t size) {
    return load(context, StateKind::Context, 0, data, size, __func__);
}
BITNET_API bitnet_status bitnet_state_save_file(bitnet_context *context, const char *path) {
    return save_file(context, StateKind::Context, 0, path, __func__);
}
BITNET_API bitnet_status bitnet_state_load_file(bitnet_context *context, const char *path) {
    return load_file(context, StateKind::Context, 0, path, __func__);
}
BITNET_API size_t bitnet_state_seq_size(const bitnet_context *context, int32_t seq) {
    return bound(context, StateKind::Sequence, seq, __func__);
}
BITNET_API bitnet_status bitnet_state_seq_save(bitnet_context *context, int32_t seq, void *buf, size_t capacity,
                                               size_t *written) {
    return save(context, StateKind::Sequence, seq, buf, capacity, written, __func__);
}
BITNET_API bitnet_status bitnet_state_seq_load(bitnet_context *context, int32_t dst_seq, const void *data,
                                               size_t size) {
    return load(context, StateKind::Sequence, dst_seq, data, size, __func__);
}
BITNET_API bitnet_status bitnet_state_seq_save_file(bitnet_context *context, int32_t seq, const char *path) {
    return save_file(context, StateKind::Sequence, seq, path, __func__);
}
BITNET_API bitnet_status bitnet_state_seq_load_file(bitnet_context *context, int32_t dst_seq, const char *path) {
    return load_file(context, StateKind::Sequence, dst_seq, path, __func__);
}

}  // extern "C"
