#!/usr/bin/env bash
# Cross-builds the CPU kernel layer and its tests for AArch64 (tests/neon/CMakeLists.txt with
# cmake/toolchain-aarch64.cmake) and runs them under qemu-user:
#   1. every test program on an emulated ARMv8.0 CPU without dotprod (cortex-a53, BITNET_ISA=neon:
#      the "neon" variant must not use a later instruction, or qemu raises SIGILL) and twice on
#      qemu's "max" CPU, which has dotprod (BITNET_ISA=scalar, and unset: "neon_dotprod");
#   2. the process-wide choice under BITNET_ISA (KernelDispatch.ProcessChoiceFollowsBitnetIsa,
#      which re-executes itself and so cannot run as-is under qemu without binfmt_misc).
# Fails on the first failure. Needs g++-aarch64-linux-gnu, qemu-user, cmake and libgtest-dev
# (GoogleTest sources in /usr/src/googletest).
#   tests/neon/run_neon_tests.sh [build-dir]     (default: build-neon; JOBS=2 by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-neon}
jobs=${JOBS:-2}
sysroot=/usr/aarch64-linux-gnu

for tool in aarch64-linux-gnu-g++ qemu-aarch64 cmake; do
    command -v "$tool" > /dev/null || { echo "run_neon_tests: $tool not found" >&2; exit 1; }
done
[[ -f /usr/src/googletest/CMakeLists.txt ]] || { echo "run_neon_tests: /usr/src/googletest missing (libgtest-dev)" >&2; exit 1; }

echo "== configure and build the AArch64 kernel layer in $build"
cmake -S "$root/tests/neon" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64.cmake" \
    -DCMAKE_BUILD_TYPE=Release > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
rm -f "$build.configure.log"
cmake --build "$build" -j"$jobs"

programs=()
for program in "$build"/bin/test_*; do
    [[ -x $program ]] && programs+=("$program")
done
[[ ${#programs[@]} -gt 0 ]] || { echo "run_neon_tests: no test programs built" >&2; exit 1; }

run() {  # run CPU ISA PROGRAM [ARGS...]: one program under qemu, BITNET_ISA=ISA (empty: unset)
    local cpu=$1 isa=$2
    shift 2
    echo "== qemu -cpu $cpu, BITNET_ISA=${isa:-(unset)}: $(basename "$1") ${*:2}"
    if [[ -n $isa ]]; then
        env BITNET_ISA="$isa" qemu-aarch64 -L "$sysroot" -cpu "$cpu" "$@"
    else
        env -u BITNET_ISA qemu-aarch64 -L "$sysroot" -cpu "$cpu" "$@"
    fi
}

# The variant tests compare every table the CPU runs with scalar whatever BITNET_ISA says; the
# three settings also exercise the process-wide choice (neon, scalar, and auto = neon_dotprod).
failures=0
for setting in cortex-a53:neon max:scalar max:; do
    IFS=: read -r cpu isa <<< "$setting"
    for program in "${programs[@]}"; do
        if ! run "$cpu" "$isa" "$program" --gtest_brief=1 --gtest_filter=-KernelDispatch.ProcessChoiceFollowsBitnetIsa; then
            echo "FAILED: $(basename "$program") on $cpu with BITNET_ISA=${isa:-(unset)}" >&2
            failures=$((failures + 1))
        fi
    done
done

# BITNET_ISA -> the table cpu_kernels() picks (cpu:isa:expected); unknown or unavailable names
# fall back to the best the CPU runs.
if [[ -x $build/bin/test_kernels ]]; then
    for case in cortex-a53::neon cortex-a53:scalar:scalar cortex-a53:neon:neon cortex-a53:neon_dotprod:neon \
        cortex-a53:bogus:neon max::neon_dotprod max:scalar:scalar max:neon:neon max:neon_dotprod:neon_dotprod \
        max:bogus:neon_dotprod; do
        IFS=: read -r cpu isa expected <<< "$case"
        if ! BITNET_KERNEL_TEST_EXPECT=$expected run "$cpu" "$isa" "$build/bin/test_kernels" --gtest_brief=1 \
            --gtest_filter=KernelDispatch.ProcessChoiceFollowsBitnetIsa; then
            echo "FAILED: BITNET_ISA=${isa:-(unset)} on $cpu should choose $expected" >&2
            failures=$((failures + 1))
        fi
    done
fi

if [[ $failures -gt 0 ]]; then
    echo "run_neon_tests: $failures FAILED run(s)" >&2
    exit 1
fi
echo "run_neon_tests: all passed (${#programs[@]} program(s): $(basename -a "${programs[@]}" | tr '\n' ' '))"
