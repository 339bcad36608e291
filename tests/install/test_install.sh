#!/usr/bin/env bash
# Installs the built library into a temporary prefix and builds a C program against it three
# ways: shared through pkg-config, static through `pkg-config --static`, and with find_package.
# Also checks that the shared library exports only bitnet_* symbols.
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

"$build/bin/bitnet" synth --preset tiny --format i2_s -o "$work/model.gguf" 2> /dev/null

echo "== shared, through pkg-config: $(pkg-config --cflags --libs bitnet)"
cc -std=c99 -Wall -Werror "$source/tests/install/consumer.c" $(pkg-config --cflags --libs bitnet) -o "$work/shared_app"
LD_LIBRARY_PATH=$libdir "$work/shared_app" "$work/model.gguf" | tail -1 | grep -qx ok
LD_LIBRARY_PATH=$libdir ldd "$work/shared_app" | grep -q "libbitnet.so.0 =>"

echo "== static, through pkg-config --static: $(pkg-config --static --libs bitnet)"
static_libs=$(pkg-config --static --libs bitnet | sed 's/-lbitnet\b//')
cc -std=c99 -Wall -Werror "$source/tests/install/consumer.c" $(pkg-config --cflags bitnet) "$libdir/libbitnet.a" $static_libs \
  -o "$work/static_app"
"$work/static_app" "$work/model.gguf" | tail -1 | grep -qx ok
if ldd "$work/static_app" | grep -q libbitnet; then echo "static_app links libbitnet dynamically"; exit 1; fi

echo "== find_package(bitnet)"
cmake -S "$source/tests/install/cmake_consumer" -B "$work/cmake_build" -DCMAKE_PREFIX_PATH="$prefix" > "$work/cmake.log"
cmake --build "$work/cmake_build" > "$work/cmake_build.log"
LD_LIBRARY_PATH=$libdir "$work/cmake_build/consumer" "$work/model.gguf" | tail -1 | grep -qx ok

echo "== exported symbols"
soname=$(readelf -d "$libdir/libbitnet.so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[ "$soname" = "libbitnet.so.0" ] || { echo "SONAME is '$soname', expected libbitnet.so.0"; exit 1; }
foreign=$(nm -D --defined-only "$libdir/libbitnet.so" | awk '{print $3}' | grep -v '^bitnet_' || true)
if [ -n "$foreign" ]; then echo "non-bitnet_ symbols exported:"; echo "$foreign" | head -20; exit 1; fi
echo "exports $(nm -D --defined-only "$libdir/libbitnet.so" | wc -l) symbols, all bitnet_*; SONAME $soname"
echo "install test passed"
