#!/usr/bin/env bash
# The whole engine on 32-bit ARM (issue 19, item 3 and the logits check), run by .ci/run: cross-builds
# libbitnet, the `bitnet` CLI and the test programs of tests/armhf/CMakeLists.txt for armhf
# (cmake/toolchain-armhf.cmake; xxhash header-only and no zstd, as for Windows:
# cmake/zstd_xxhash.cmake), then under qemu-arm:
#   1. test_forward (the forward pass against the double-precision reference) and test_gguf_reader;
#   2. the logits of synthetic small models (i2_s, tq2_0, tq1_0, f16; float-activation mode) agree
#      with a native build's within rel_rms 1e-5, through the same comparison as the Windows build
#      (tests/windows/compare_native_logits.sh; the armhf synth must also write byte-identical
#      models): on the emulated Cortex-A15 (the NEON kernels) and again with BITNET_ISA=scalar.
#   tests/armhf/run_armhf_engine.sh NATIVE_BITNET [build-dir]   (default: build-armhf-engine; JOBS=2)
# The kernel tests of the armhf build are tests/armhf/run_armhf_tests.sh (its own small project).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
native=${1:?usage: run_armhf_engine.sh NATIVE_BITNET [build-dir]}
build=${2:-$root/build-armhf-engine}
jobs=${JOBS:-2}
sysroot=/usr/arm-linux-gnueabihf
native=$(cd "$(dirname "$native")" && pwd)/$(basename "$native")

for tool in arm-linux-gnueabihf-g++ qemu-arm cmake python3; do
    command -v "$tool" > /dev/null || { echo "run_armhf_engine: $tool not found" >&2; exit 1; }
done
[[ -x $native ]] || { echo "run_armhf_engine: no native bitnet at $native" >&2; exit 1; }

[[ -f /usr/src/googletest/CMakeLists.txt ]] || { echo "run_armhf_engine: /usr/src/googletest missing (libgtest-dev)" >&2; exit 1; }

echo "== configure and build libbitnet, bitnet and the engine tests for armhf in $build"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-armhf.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DBITNET_VULKAN=OFF -DBITNET_TESTS=ON -DBITNET_BENCH=OFF \
    > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
rm -f "$build.configure.log"
cmake --build "$build" -j"$jobs" --target bitnet_cli test_forward test_gguf_reader
file -L "$build/bin/bitnet" | grep -q "ARM" || { echo "run_armhf_engine: $build/bin/bitnet is not an ARM executable" >&2; exit 1; }

# The test programs under qemu-arm (CMAKE_CROSSCOMPILING_EMULATOR; qemu's default CPU has NEON and
# VFPv4, so the NEON kernels run).
echo "== engine tests under qemu-arm"
ctest --test-dir "$build" --output-on-failure -j"$jobs" -L armhf

# compare_native_logits.sh runs the target binary through $WINE: here a qemu-arm wrapper; the
# native side through a wrapper too, to choose its kernels.
#  1. scalar kernels on both sides (BITNET_ISA=scalar): the issue's check, rel_rms <= 1e-5 (measured:
#     bit-identical; the scalar kernels fix their summation order, and both use IEEE float).
#  2. the armhf NEON kernels (Cortex-A15) against the native scalar ones, also at 1e-5: the
#     float-activation mode runs the kernels whose summation order is each ISA's own from the scalar
#     table and dot_f32 by its fixed double-precision rule (kernels.h, float_activation_kernels);
#     before that, NEON differed by 3.7e-5 to 6.6e-5 (and avx2/avx512/scalar among themselves by
#     up to 7.8e-5): the random synthetic model amplifies any one reduction's rounding ~100-fold.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
native_scalar=$work/native-scalar.sh
printf '#!/bin/sh\nexport BITNET_ISA=scalar\nexec "%s" "$@"\n' "$native" > "$native_scalar"
for setting in cortex-a15:scalar:1e-5 cortex-a15::1e-5; do
    IFS=: read -r cpu isa tolerance <<< "$setting"
    runner=$work/qemu-$cpu-${isa:-auto}.sh
    {
        echo '#!/bin/sh'
        if [[ -n $isa ]]; then echo "export BITNET_ISA=$isa"; else echo "unset BITNET_ISA"; fi
        echo "exec qemu-arm -L $sysroot -cpu $cpu \"\$@\""
    } > "$runner"
    chmod +x "$native_scalar" "$runner"
    echo "== logits: armhf bitnet under qemu-arm -cpu $cpu, BITNET_ISA=${isa:-(unset)}, against native scalar"
    WINE=$runner TOLERANCE=$tolerance LABEL="the armhf build under qemu-arm ($cpu, BITNET_ISA=${isa:-unset})" \
        bash "$root/tests/windows/compare_native_logits.sh" "$native_scalar" "$build/bin/bitnet" "$work/logits"
done
echo "run_armhf_engine: passed"
