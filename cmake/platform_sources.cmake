# Engine files with one implementation per platform, named *_posix.cpp and *_windows.cpp (e.g.
# lib/util/mapped_file_posix.cpp and mapped_file_windows.cpp behind lib/util/mapped_file.h): the
# glob of lib/ found both; keep the one for this target.
if(WIN32)
  list(FILTER BITNET_LIB_SOURCES EXCLUDE REGEX "_posix\\.cpp$")
else()
  list(FILTER BITNET_LIB_SOURCES EXCLUDE REGEX "_windows\\.cpp$")
endif()
