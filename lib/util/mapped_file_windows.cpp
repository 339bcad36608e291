// MappedFile on Windows: CreateFileMapping/MapViewOfFile for open(), VirtualAlloc'ed memory filled
// by ReadFile for read(). Paths are UTF-8, opened through CreateFileW (util/file_path.h).
#include <windows.h>

#include <algorithm>
#include <utility>

#include "util/error.h"
#include "util/file_path.h"
#include "util/mapped_file.h"

namespace bitnet {

namespace {

// An open, non-empty regular file; closes itself.
struct InputFile {
    HANDLE handle = INVALID_HANDLE_VALUE;
    size_t size = 0;
    ~InputFile() {
        if (handle != INVALID_HANDLE_VALUE) CloseHandle(handle);
    }
    HANDLE release() { return std::exchange(handle, INVALID_HANDLE_VALUE); }
};

std::string os_error() { return windows_error_text(GetLastError()); }

void open_input(const std::string &path, InputFile &file) {
    std::wstring wide;
    if (!utf8_to_wide(path, wide)) fail(BITNET_ERR_IO, "cannot open '%s': the path is not valid UTF-8", path.c_str());
    // FILE_SHARE_DELETE lets another program replace the file by renaming over it while it is
    // mapped, as POSIX allows; the view keeps the old contents.
    file.handle = CreateFileW(wide.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file.handle == INVALID_HANDLE_VALUE) fail(BITNET_ERR_IO, "cannot open '%s': %s", path.c_str(), os_error().c_str());
    if (GetFileType(file.handle) != FILE_TYPE_DISK) fail(BITNET_ERR_IO, "'%s' is not a regular file", path.c_str());
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(file.handle, &info)) {
        fail(BITNET_ERR_IO, "cannot stat '%s': %s", path.c_str(), os_error().c_str());
    }
    if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) fail(BITNET_ERR_IO, "'%s' is not a regular file", path.c_str());
    const uint64_t size = (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
    file.size = MappedFile::checked_file_size(path, size);
}

}  // namespace

MappedFile MappedFile::read(const std::string &path) {
    InputFile input;
    open_input(path, input);
    void *memory = VirtualAlloc(nullptr, input.size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (!memory) {
        fail(BITNET_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes to read '%s' into: %s", input.size, path.c_str(),
             os_error().c_str());
    }
    MappedFile file;
    file.data_ = static_cast<const uint8_t *>(memory);
    file.size_ = input.size;
    file.owned_ = true;  // from here on the destructor frees it, also when reading fails
    auto *out = static_cast<uint8_t *>(memory);
    for (size_t done = 0; done < input.size;) {
        // ReadFile counts in a DWORD: read at most 1 GiB at a time.
        const DWORD want = static_cast<DWORD>(std::min<size_t>(input.size - done, size_t(1) << 30));
        DWORD got = 0;
        if (!ReadFile(input.handle, out + done, want, &got, nullptr)) {
            fail(BITNET_ERR_IO, "cannot read '%s' at byte %zu: %s", path.c_str(), done, os_error().c_str());
        }
        if (got == 0) fail(BITNET_ERR_IO, "'%s' ended at byte %zu while reading %zu bytes", path.c_str(), done, input.size);
        done += got;
    }
    // Weights are immutable once loaded, as they are in a read-only mapping; a stray write faults.
    DWORD previous = 0;
    VirtualProtect(memory, input.size, PAGE_READONLY, &previous);
    return file;
}

MappedFile MappedFile::open(const std::string &path) {
    InputFile input;
    open_input(path, input);
    HANDLE mapping = CreateFileMappingW(input.handle, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (!mapping) fail(BITNET_ERR_IO, "cannot map '%s' (%zu bytes): %s", path.c_str(), input.size, os_error().c_str());
    void *view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, input.size);
    const std::string view_error = view ? std::string() : os_error();
    CloseHandle(mapping);  // the view keeps the mapping object alive
    if (!view) fail(BITNET_ERR_IO, "cannot map '%s' (%zu bytes): %s", path.c_str(), input.size, view_error.c_str());
    MappedFile file;
    file.data_ = static_cast<const uint8_t *>(view);
    file.size_ = input.size;
    file.owned_ = true;
    file.file_ = reinterpret_cast<intptr_t>(input.release());
    file.path_ = path;
    return file;
}

void MappedFile::check_not_truncated() const {
    if (file_ == kNoFile) return;
    LARGE_INTEGER size;
    if (!GetFileSizeEx(reinterpret_cast<HANDLE>(file_), &size)) {
        fail(BITNET_ERR_IO, "cannot stat the model file '%s': %s", path_.c_str(), os_error().c_str());
    }
    if (static_cast<uint64_t>(size.QuadPart) < size_) {
        fail(BITNET_ERR_IO,
             "the model file '%s' shrank from %zu to %lld bytes since it was mapped: a mapped model's file must not "
             "be truncated or rewritten in place while it is loaded (replace it by renaming a new file over it, or "
             "load with use_mmap = false)",
             path_.c_str(), size_, static_cast<long long>(size.QuadPart));
    }
}

// A view (open(), which keeps its file handle) is unmapped; read()'s memory is VirtualFree'd.
void MappedFile::release(const uint8_t *data, size_t, intptr_t file) {
    if (file != kNoFile) {
        if (data) UnmapViewOfFile(data);
        CloseHandle(reinterpret_cast<HANDLE>(file));
    } else if (data) {
        VirtualFree(const_cast<uint8_t *>(data), 0, MEM_RELEASE);
    }
}

}  // namespace bitnet
