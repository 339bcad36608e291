#!/usr/bin/env bash
# The fully static Linux `bitnet` (issue 19, item 4; cmake/static_exe.cmake; README "Platforms"):
#   1. builds only bitnet_cli with BITNET_STATIC_EXE=ON (static glibc, libstdc++, libgomp, zstd, xxhash);
#   2. checks that `file` says "statically linked" and `ldd` "not a dynamic executable";
#   3. copies the binary alone into an empty directory and, in an empty environment (env -i: no
#      PATH, no LD_LIBRARY_PATH), writes a tiny synthetic model with it and generates 4 tokens.
# Fails on the first failure. Needs cmake, g++, file, libzstd-dev, libxxhash-dev (their .a archives).
#   tests/static/run_static_test.sh [build-dir]     (default: build-static; JOBS=2 by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-static}
jobs=${JOBS:-2}

for tool in cmake file ldd; do
    command -v "$tool" > /dev/null || { echo "run_static_test: $tool not found" >&2; exit 1; }
done

echo "== configure and build the static bitnet in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBITNET_STATIC_EXE=ON -DBITNET_VULKAN=OFF \
    -DBITNET_TRAIN=OFF -DBITNET_CONVERT=OFF -DBITNET_TESTS=OFF -DBITNET_BENCH=OFF \
    > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
rm -f "$build.configure.log"
cmake --build "$build" -j"$jobs" --target bitnet_cli
binary=$build/bin/bitnet

echo "== is it static?"
file_says=$(file -L "$binary")
echo "$file_says"
[[ $file_says == *"statically linked"* ]] || { echo "run_static_test: file does not say statically linked" >&2; exit 1; }
# ldd exits non-zero on a static executable; what it prints is what counts.
ldd_says=$(ldd "$binary" 2>&1 || true)
echo "ldd: $ldd_says"
[[ $ldd_says == *"not a dynamic executable"* ]] || { echo "run_static_test: ldd lists shared libraries" >&2; exit 1; }

echo "== run it alone, in an empty environment"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$binary" "$work/bitnet"
cd "$work"
env -i ./bitnet synth --preset tiny --format i2_s -o tiny.gguf
[[ -s tiny.gguf ]] || { echo "run_static_test: synth wrote no model" >&2; exit 1; }
run_says=$(env -i ./bitnet run -m tiny.gguf --tokens "1 2 3" -n 4 --seed 1 2>&1) || {
    echo "$run_says"; echo "run_static_test: bitnet run failed" >&2; exit 1; }
echo "$run_says"
[[ $run_says == *"generation: 4 tokens"* ]] || { echo "run_static_test: bitnet run did not generate 4 tokens" >&2; exit 1; }
echo "run_static_test: passed (static bitnet, $(stat -c %s "$binary") bytes, ran synth and run under env -i)"
