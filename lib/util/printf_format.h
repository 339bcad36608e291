// BITNET_PRINTF_FORMAT(f, a): let the compiler check a printf-style function's format string
// (argument f) against its arguments (from a). MinGW's GCC reads the plain "printf" archetype as
// Microsoft's dialect, which has no %zu; the engine formats through libstdc++'s C99-conforming
// vsnprintf there (libstdc++ defines __USE_MINGW_ANSI_STDIO), whose dialect is "gnu_printf".
#pragma once

#if defined(__MINGW32__)
#define BITNET_PRINTF_FORMAT(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define BITNET_PRINTF_FORMAT(f, a) __attribute__((format(printf, f, a)))
#endif
