#!/usr/bin/env bash
# Cross-builds the CPU kernel layer and its tests for 32-bit ARM (armhf: tests/neon/CMakeLists.txt
# with cmake/toolchain-armhf.cmake) and runs them under qemu-user (qemu-arm):
#   1. every test program on an emulated Cortex-A15 (NEON + VFPv4: the "neon" variant is chosen
#      and compared with scalar); test_kernels also with BITNET_ISA=scalar and on a Cortex-A8 (NEON
#      but VFPv3 only: the NEON kernels, which use VFMA, must not be chosen; scalar runs);
#   2. the process-wide choice under BITNET_ISA (KernelDispatch.ProcessChoiceFollowsBitnetIsa);
#   test_size_limits among them: 64-bit sizes (GGUF offsets, a 5 GiB sparse file) refused, not
#   wrapped, where size_t has 32 bits.
# Fails on the first failure. Needs g++-arm-linux-gnueabihf, qemu-user, cmake and libgtest-dev.
#   tests/armhf/run_armhf_tests.sh [build-dir]     (default: build-armhf; JOBS=2 by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-armhf}
export BITNET_TEST_TMP=${BITNET_TEST_TMP:-${TMPDIR:-/tmp}}  # test_size_limits' sparse file
jobs=${JOBS:-2}
sysroot=/usr/arm-linux-gnueabihf

for tool in arm-linux-gnueabihf-g++ qemu-arm cmake; do
    command -v "$tool" > /dev/null || { echo "run_armhf_tests: $tool not found" >&2; exit 1; }
done
[[ -f /usr/src/googletest/CMakeLists.txt ]] || { echo "run_armhf_tests: /usr/src/googletest missing (libgtest-dev)" >&2; exit 1; }

echo "== configure and build the armhf kernel layer in $build"
cmake -S "$root/tests/neon" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-armhf.cmake" \
    -DCMAKE_BUILD_TYPE=Release > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
rm -f "$build.configure.log"
cmake --build "$build" -j"$jobs"

programs=()
for program in "$build"/bin/test_*; do
    [[ -x $program ]] && programs+=("$program")
done
[[ ${#programs[@]} -gt 0 ]] || { echo "run_armhf_tests: no test programs built" >&2; exit 1; }

run() {  # run CPU ISA PROGRAM [ARGS...]: one program under qemu, BITNET_ISA=ISA (empty: unset)
    local cpu=$1 isa=$2
    shift 2
    echo "== qemu-arm -cpu $cpu, BITNET_ISA=${isa:-(unset)}: $(basename "$1") ${*:2}"
    if [[ -n $isa ]]; then
        env BITNET_ISA="$isa" qemu-arm -L "$sysroot" -cpu "$cpu" "$@"
    else
        env -u BITNET_ISA qemu-arm -L "$sysroot" -cpu "$cpu" "$@"
    fi
}

# Every program once on the Cortex-A15 (each variant test compares every table the CPU runs with
# scalar, whatever BITNET_ISA says); test_kernels also with BITNET_ISA=scalar and on the Cortex-A8.
# (test_float_kernels takes minutes under qemu and adds nothing on those two.)
failures=0
for setting in cortex-a15: cortex-a15:scalar cortex-a8:; do
    IFS=: read -r cpu isa <<< "$setting"
    for program in "${programs[@]}"; do
        [[ $setting == cortex-a15: || $(basename "$program") == test_kernels ]] || continue
        if ! run "$cpu" "$isa" "$program" --gtest_brief=1 --gtest_filter=-KernelDispatch.ProcessChoiceFollowsBitnetIsa; then
            echo "FAILED: $(basename "$program") on $cpu with BITNET_ISA=${isa:-(unset)}" >&2
            failures=$((failures + 1))
        fi
    done
done

# BITNET_ISA -> the table cpu_kernels() picks (cpu:isa:expected); unknown or unavailable names
# (neon_dotprod is AArch64 only) fall back to the best the CPU runs.
if [[ -x $build/bin/test_kernels ]]; then
    for case in cortex-a15::neon cortex-a15:scalar:scalar cortex-a15:neon:neon cortex-a15:neon_dotprod:neon \
        cortex-a8::scalar cortex-a8:neon:scalar; do
        IFS=: read -r cpu isa expected <<< "$case"
        if ! BITNET_KERNEL_TEST_EXPECT=$expected run "$cpu" "$isa" "$build/bin/test_kernels" --gtest_brief=1 \
            --gtest_filter=KernelDispatch.ProcessChoiceFollowsBitnetIsa; then
            echo "FAILED: BITNET_ISA=${isa:-(unset)} on $cpu should choose $expected" >&2
            failures=$((failures + 1))
        fi
    done
fi

if [[ $failures -gt 0 ]]; then
    echo "run_armhf_tests: $failures FAILED run(s)" >&2
    exit 1
fi
echo "run_armhf_tests: all passed (${#programs[@]} program(s): $(basename -a "${programs[@]}" | tr '\n' ' '))"
