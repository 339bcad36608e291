#!/usr/bin/env bash
# CI step (.ci/run): the Windows x86-64 cross build with MinGW-w64 and its tests under Wine
# (docs/windows.md). Builds libbitnet.dll + libbitnet.dll.a, libbitnet.a, bitnet.exe, the examples
# and the Windows test list (tests/windows/CMakeLists.txt), then runs them as .exe through ctest,
# including the logits comparison against a native build's bitnet.
#
#   tests/windows/run_windows_tests.sh BUILD_DIR [NATIVE_BITNET]
# NATIVE_BITNET defaults to build/bin/bitnet (the Release build of .ci/run). JOBS: parallel jobs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-mingw}
native=${2:-$root/build/bin/bitnet}
jobs=${JOBS:-2}
if [ ! -x "$native" ]; then
  echo "run_windows_tests.sh: no native bitnet at $native (build the native Release build first)" >&2
  exit 1
fi
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64-x86_64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DBITNET_VULKAN=OFF -DBITNET_BENCH=OFF -DBITNET_NATIVE_CLI="$native" "${launcher[@]}"
cmake --build "$build" -j"$jobs"
for output in bin/libbitnet.dll lib/libbitnet.dll.a lib/libbitnet.a bin/bitnet.exe; do
  test -f "$build/$output" || { echo "run_windows_tests.sh: $output was not built" >&2; exit 1; }
done

# Wine's own prefix inside the build folder; its first start (wineboot, ~30 s) happens once here,
# and a persistent wineserver spares each test program the server's start.
export WINEPREFIX="$build/wine-prefix" WINEDEBUG=-all
wine64=$(command -v wine64 || echo /usr/lib/wine/wine64)
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
"$wine64" wineboot --init > /dev/null 2>&1 || true
"$wineserver" -k > /dev/null 2>&1 || true  # wineboot's server, which exits 3 s after its last client
"$wineserver" -p 300 < /dev/null > /dev/null 2>&1 || true
trap '"$wineserver" -k > /dev/null 2>&1 || true' EXIT
# The first program on a fresh server also starts Wine's services (services.exe, rpcss, ...), which
# keep the standard streams they inherit: give them none, or a pipe reading them never ends.
"$wine64" "$build/bin/bitnet.exe" --version < /dev/null > "$build/wine-version.txt" 2>&1
tail -1 "$build/wine-version.txt"
ctest --test-dir "$build" --output-on-failure -L windows
