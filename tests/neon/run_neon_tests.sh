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
script=run_neon_tests triple=aarch64-linux-gnu qemu=qemu-aarch64 toolchain=$root/cmake/toolchain-aarch64.cmake
build=${1:-$root/build-neon}
jobs=${JOBS:-2}
# shellcheck source=qemu_kernel_tests.sh
source "$root/tests/neon/qemu_kernel_tests.sh"
build_kernel_tests

# The variant tests compare every table the CPU runs with scalar whatever BITNET_ISA says; the
# three settings also exercise the process-wide choice (neon, scalar, and auto = neon_dotprod).
run_settings '*' cortex-a53:neon max:scalar max:

# BITNET_ISA -> the table cpu_kernels() picks (cpu:isa:expected); unknown or unavailable names
# fall back to the best the CPU runs.
check_isa_choice cortex-a53::neon cortex-a53:scalar:scalar cortex-a53:neon:neon cortex-a53:neon_dotprod:neon \
    cortex-a53:bogus:neon max::neon_dotprod max:scalar:scalar max:neon:neon max:neon_dotprod:neon_dotprod \
    max:bogus:neon_dotprod
finish
