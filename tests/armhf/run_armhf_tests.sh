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
export BITNET_TEST_TMP=${BITNET_TEST_TMP:-${TMPDIR:-/tmp}}  # test_size_limits' sparse file
script=run_armhf_tests triple=arm-linux-gnueabihf qemu=qemu-arm toolchain=$root/cmake/toolchain-armhf.cmake
build=${1:-$root/build-armhf}
jobs=${JOBS:-2}
# shellcheck source=../neon/qemu_kernel_tests.sh
source "$root/tests/neon/qemu_kernel_tests.sh"
build_kernel_tests

# Every program once on the Cortex-A15 (each variant test compares every table the CPU runs with
# scalar, whatever BITNET_ISA says); test_kernels also with BITNET_ISA=scalar and on the Cortex-A8.
# (test_float_kernels takes minutes under qemu and adds nothing on those two.)
run_settings '*' cortex-a15:
run_settings test_kernels cortex-a15:scalar cortex-a8:

# BITNET_ISA -> the table cpu_kernels() picks (cpu:isa:expected); unknown or unavailable names
# (neon_dotprod is AArch64 only) fall back to the best the CPU runs.
check_isa_choice cortex-a15::neon cortex-a15:scalar:scalar cortex-a15:neon:neon cortex-a15:neon_dotprod:neon \
    cortex-a8::scalar cortex-a8:neon:scalar
finish
