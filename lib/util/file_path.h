// Files named by UTF-8 paths on every platform. POSIX systems take the bytes as they are; Windows
// would read a narrow path in the process's ANSI code page, so there every path goes through the
// wide-character APIs (_wfopen, CreateFileW, MoveFileExW) after MultiByteToWideChar(CP_UTF8).
#pragma once

#include <cstdio>
#include <string>

namespace bitnet {

// fopen() by UTF-8 path; nullptr with errno set on failure (also for a path that is not UTF-8).
std::FILE *open_file(const std::string &path, const char *mode);

// Rename `from` over `to`, replacing an existing `to` (the last step of an atomic write).
// POSIX rename() does that in one step; Windows rename() refuses an existing target, so there it
// is MoveFileExW(MOVEFILE_REPLACE_EXISTING). Returns false with errno set on failure.
bool replace_file(const std::string &from, const std::string &to);

// remove() by UTF-8 path; false with errno set on failure.
bool remove_file(const std::string &path);

#if defined(_WIN32)
// UTF-8 to UTF-16 for the wide-character Windows APIs; false for bytes that are not UTF-8.
bool utf8_to_wide(const std::string &utf8, std::wstring &wide);
// The text of a Windows error code (GetLastError()), e.g. "The system cannot find the file specified."
std::string windows_error_text(unsigned long code);
#endif

}  // namespace bitnet
