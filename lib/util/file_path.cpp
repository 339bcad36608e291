#include "util/file_path.h"

#include <cerrno>

#if defined(_WIN32)
#include <windows.h>
#endif

namespace bitnet {

#if defined(_WIN32)

bool utf8_to_wide(const std::string &utf8, std::wstring &wide) {
    wide.clear();
    if (utf8.empty()) return true;
    // MB_ERR_INVALID_CHARS: a malformed path is refused instead of silently becoming U+FFFD.
    const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()),
                                      nullptr, 0);
    if (n <= 0) return false;
    wide.resize(static_cast<size_t>(n));
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()),
                               wide.data(), n) == n;
}

std::string windows_error_text(unsigned long code) {
    char *text = nullptr;
    const DWORD n = FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                       FORMAT_MESSAGE_IGNORE_INSERTS,
                                   nullptr, code, 0, reinterpret_cast<char *>(&text), 0, nullptr);
    std::string result = n && text ? std::string(text, n) : "Windows error " + std::to_string(code);
    if (text) LocalFree(text);
    while (!result.empty() && (result.back() == '\n' || result.back() == '\r' || result.back() == ' ')) result.pop_back();
    return result;
}

std::FILE *open_file(const std::string &path, const char *mode) {
    std::wstring wide_path, wide_mode;
    if (!utf8_to_wide(path, wide_path) || !utf8_to_wide(mode, wide_mode)) {
        errno = EINVAL;
        return nullptr;
    }
    return _wfopen(wide_path.c_str(), wide_mode.c_str());
}

bool replace_file(const std::string &from, const std::string &to) {
    std::wstring wide_from, wide_to;
    if (!utf8_to_wide(from, wide_from) || !utf8_to_wide(to, wide_to)) {
        errno = EINVAL;
        return false;
    }
    if (MoveFileExW(wide_from.c_str(), wide_to.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) return true;
    const DWORD error = GetLastError();
    errno = error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ? ENOENT
            : error == ERROR_ACCESS_DENIED                                  ? EACCES
                                                                            : EIO;
    return false;
}

bool remove_file(const std::string &path) {
    std::wstring wide;
    if (!utf8_to_wide(path, wide)) {
        errno = EINVAL;
        return false;
    }
    return _wremove(wide.c_str()) == 0;
}

#else

std::FILE *open_file(const std::string &path, const char *mode) { return std::fopen(path.c_str(), mode); }

bool replace_file(const std::string &from, const std::string &to) { return std::rename(from.c_str(), to.c_str()) == 0; }

bool remove_file(const std::string &path) { return std::remove(path.c_str()) == 0; }

#endif

}  // namespace bitnet
