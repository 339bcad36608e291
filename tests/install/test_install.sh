#!/usr/bin/env bash
# Installs the built library into a temporary prefix and builds a C program and the C examples
# (examples/simple.c, examples/batched.c) against it four ways: shared through pkg-config (bitnet),
# static through pkg-config with exactly the command README documents,
#   cc app.c $(pkg-config --static --cflags --libs bitnet-static)
# and with find_package, both bitnet::bitnet and bitnet::bitnet_static; each program runs on a tiny
# synthetic model, and the static ones must not depend on libbitnet.so (readelf: no NEEDED entry).
# Also checks that the shared library exports only bitnet_* symbols, that tools/' internal
# library is not installed, and that a C++ host's own exceptions are unaffected (host_exceptions.cpp).
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
pc=$(find "$prefix" -name bitnet.pc)
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH=$(dirname "$pc")
echo "installed: $(cd "$prefix" && find . -type f | sort | tr '\n' ' ')"
# The tooling library (tools/: GGUF writer, synthetic models) is internal: never installed.
if find "$prefix" -name '*bitnet_tools*' | grep -q .; then
  echo "FAIL: the internal bitnet_tools library was installed"
  exit 1
fi

"$build/bin/bitnet" synth --preset tiny --format i2_s -o "$work/model.gguf" 2> /dev/null
examples=$source/examples
c_flags=(-std=c99 -Wall -Wextra -Werror)

# Runs DIR/simple and DIR/batched on the model, keeping their output in DIR/*.out, and checks
# that batched continued both prompts.
run_examples() {
  "$1/simple" "$work/model.gguf" "Hello" 8 > "$1/simple.out"
  "$1/batched" "$work/model.gguf" "Hello" "World" 4 > "$1/batched.out"
  grep -q '^\[0\] Hello' "$1/batched.out" && grep -q '^\[1\] World' "$1/batched.out"
}

echo "== shared, through pkg-config: $(pkg-config --cflags --libs bitnet)"
mkdir "$work/shared"
for program in "$source/tests/install/consumer.c" "$examples/simple.c" "$examples/batched.c"; do
  cc "${c_flags[@]}" "$program" $(pkg-config --cflags --libs bitnet) -o "$work/shared/$(basename "$program" .c)"
done
LD_LIBRARY_PATH=$libdir "$work/shared/consumer" "$work/model.gguf" | tail -1 | grep -qx ok
# Pipelines read their input to the end (no grep -q): with pipefail, a writer killed by SIGPIPE
# after an early exit of grep would fail the test at random.
LD_LIBRARY_PATH=$libdir ldd "$work/shared/simple" | grep "libbitnet.so.0 =>" > /dev/null
LD_LIBRARY_PATH=$libdir run_examples "$work/shared"

# Fails when PROGRAM needs libbitnet.so at run time.
expect_static() {
  if readelf -d "$1" | grep NEEDED | grep libbitnet > /dev/null; then
    echo "$1 links libbitnet dynamically:"; readelf -d "$1" | grep NEEDED; exit 1
  fi
  if ldd "$1" | grep libbitnet > /dev/null; then echo "$1 loads libbitnet dynamically"; exit 1; fi
}

echo "== static, through pkg-config: $(pkg-config --static --cflags --libs bitnet-static)"
mkdir "$work/static"
for program in "$source/tests/install/consumer.c" "$examples/simple.c" "$examples/batched.c"; do
  cc "${c_flags[@]}" "$program" $(pkg-config --static --cflags --libs bitnet-static) \
    -o "$work/static/$(basename "$program" .c)"
done
for program in consumer simple batched; do expect_static "$work/static/$program"; done
# A C++ host's own exceptions stay on the toolchain's unwinder, linked either way.
c++ -std=c++17 -O1 "$source/tests/install/host_exceptions.cpp" $(pkg-config --static --cflags --libs bitnet-static) \
  -o "$work/static/host_exceptions"
"$work/static/host_exceptions" "$work/model.gguf" | tail -1 | grep -qx ok
c++ -std=c++17 -O1 "$source/tests/install/host_exceptions.cpp" $(pkg-config --cflags --libs bitnet) \
  -o "$work/shared/host_exceptions"
LD_LIBRARY_PATH=$libdir "$work/shared/host_exceptions" "$work/model.gguf" | tail -1 | grep -qx ok
"$work/static/consumer" "$work/model.gguf" | tail -1 | grep -qx ok
run_examples "$work/static"
# Same library code and a fixed seed: the statically linked example writes the same text.
cmp "$work/shared/simple.out" "$work/static/simple.out"
cmp "$work/shared/batched.out" "$work/static/batched.out"

echo "== find_package(bitnet)"
cmake -S "$source/tests/install/cmake_consumer" -B "$work/cmake_build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DBITNET_EXAMPLES_DIR="$examples" > "$work/cmake.log"
cmake --build "$work/cmake_build" > "$work/cmake_build.log"
LD_LIBRARY_PATH=$libdir "$work/cmake_build/consumer" "$work/model.gguf" | tail -1 | grep -qx ok
LD_LIBRARY_PATH=$libdir ldd "$work/cmake_build/simple" | grep "libbitnet.so.0 =>" > /dev/null
LD_LIBRARY_PATH=$libdir run_examples "$work/cmake_build"

echo "== find_package(bitnet), bitnet::bitnet_static"
mkdir "$work/cmake_static"
for program in consumer simple batched; do
  expect_static "$work/cmake_build/${program}_static"
  cp "$work/cmake_build/${program}_static" "$work/cmake_static/$program"
done
"$work/cmake_static/consumer" "$work/model.gguf" | tail -1 | grep -qx ok
run_examples "$work/cmake_static"
cmp "$work/shared/simple.out" "$work/cmake_static/simple.out"

echo "== exported symbols"
soname=$(readelf -d "$libdir/libbitnet.so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[ "$soname" = "libbitnet.so.0" ] || { echo "SONAME is '$soname', expected libbitnet.so.0"; exit 1; }
foreign=$(nm -D --defined-only "$libdir/libbitnet.so" | awk '{print $3}' | grep -v '^bitnet_' || true)
if [ -n "$foreign" ]; then echo "non-bitnet_ symbols exported:"; echo "$foreign" | head -20; exit 1; fi
echo "exports $(nm -D --defined-only "$libdir/libbitnet.so" | wc -l) symbols, all bitnet_*; SONAME $soname"
echo "install test passed"
