#!/usr/bin/env bash
# CI step: one clang build serves two checks (so .ci/run needs no extra build for either):
#   1. clang: the Release build and the test suite (ctest -LE heavy) pass with clang, and clang
#      reports no warning (the build log is searched: a "warning:" fails the step);
#   2. a build without Vulkan (-DBITNET_VULKAN=OFF): the libraries hold the engine only (no tools/
#      code), `bitnet --version` lists the cpu backend alone, `bitnet run` works with --backend
#      auto and refuses --backend vulkan with a message saying so.
#   .ci/clang_novulkan.sh [build-dir]     (default: build-novulkan; JOBS=$(nproc) by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-novulkan}
jobs=${JOBS:-$(nproc)}

echo "== clang Release build without Vulkan (-DBITNET_VULKAN=OFF) in $build: warnings, test suite, smoke test"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DBITNET_VULKAN=OFF -DBITNET_BENCH=OFF
cmake --build "$build" -j"$jobs" 2>&1 | tee "$build/build.log"
if grep -n "warning:" "$build/build.log"; then
    echo "clang_novulkan: clang reported the warnings above" >&2
    exit 1
fi
ctest --test-dir "$build" --output-on-failure -j"$jobs" -LE heavy

# The libraries hold the engine only (no tools/ code).
bash "$root/tests/layout/test_engine_only.sh" "$build/lib/libbitnet.a" "$build/lib/libbitnet.so"
"$build/bin/bitnet" --version | tail -1 | grep "; backends cpu$"
"$build/bin/bitnet" synth --preset tiny --format i2_s -o "$build/tiny.gguf" 2> /dev/null
"$build/bin/bitnet" run -m "$build/tiny.gguf" --tokens "1 2 3" -n 4 --backend auto > /dev/null
if "$build/bin/bitnet" run -m "$build/tiny.gguf" --tokens "1 2 3" -n 4 --backend vulkan 2> "$build/vulkan.err"; then
    echo "clang_novulkan: --backend vulkan ran in a build without Vulkan" >&2
    exit 1
fi
grep "no Vulkan backend" "$build/vulkan.err"
echo "clang_novulkan: passed"
