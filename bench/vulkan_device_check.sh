#!/usr/bin/env bash
# The prepared Vulkan check for a machine with a real GPU (issue 18), as one script: the Vulkan test
# programs, then bitnet-bench on a synthetic 2B-4T model (F16 head as stored, and a Q8_0 head),
# with the decode bandwidth it achieves against the device's copy bandwidth. Everything goes to
# $OUT (the device machine's folder that comes back) or ./vulkan-device-check.
#
# Run from the repository root, with a Release build that has Vulkan in $BUILD (default build/):
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBITNET_VULKAN=ON
#   cmake --build build -j --target test_vulkan test_vulkan_paths bitnet_cli bitnet-bench
# On this project's device machine (/work/.library/device/README.md) the NVIDIA Vulkan driver is
# there but the loader is not: download the loader packages once into .gl/ (ignored by git) and
# carry it and the build folder; this script unpacks them when it finds .gl/. For example:
#   run(command="bash bench/vulkan_device_check.sh", carry=[".gl", "build/bin"], timeout_s=540)
# (build/bin alone is enough when the programs link libbitnet statically, as the tests and tools
# do; the script prints `ldd` of each so a missing shared library shows.)
# A local smoke run of the script itself (lavapipe is far too slow for 2B-4T):
#   PRESET=small SKIP_TESTS=1 bash bench/vulkan_device_check.sh
set -u
out=${OUT:-$PWD/vulkan-device-check}
build=${BUILD:-build}
bin=$build/bin
mkdir -p "$out"
log=$out/summary.txt
: >"$log"
say() { echo "$*" | tee -a "$log"; }

if [ -d .gl ] && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# The NVIDIA driver's ICD file, where the machine keeps it outside the loader's search path.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES=$nvidia_icd
fi

say "== machine"
say "date: $(date -u)"
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true) | tee -a "$log"
for program in test_vulkan test_vulkan_paths bitnet bitnet-bench; do
  if [ ! -x "$bin/$program" ]; then say "missing: $bin/$program (build it first)"; exit 1; fi
  ldd "$bin/$program" 2>&1 | grep -i "not found" | sed "s|^|$program: |" | tee -a "$log"
done
"$bin/bitnet" --help 2>&1 | tail -1 | tee -a "$log"   # the build info line names the Vulkan devices

preset=${PRESET:-2b4t}
if [ -z "${SKIP_TESTS:-}" ]; then
say "== Vulkan tests"
export BITNET_FIXTURES=${BITNET_FIXTURES:-$PWD/../shared/fixtures}
export BITNET_TEST_TMP=${BITNET_TEST_TMP:-$out/test-tmp}
mkdir -p "$BITNET_TEST_TMP"
# test_vulkan_paths forces the portable paths through the environment; each forced case must be a
# process of its own (the environment is read when the device opens), so run it case by case.
timeout 300 "$bin/test_vulkan" --gtest_brief=1 >"$out/test_vulkan.txt" 2>&1
say "test_vulkan: exit $? ($(grep -c '^\[       OK' "$out/test_vulkan.txt") ok, $(grep -c '^\[  FAILED' "$out/test_vulkan.txt") failed lines)"
paths_status=0
for case in $("$bin/test_vulkan_paths" --gtest_list_tests | awk '/^[^ ]/{suite=$1} /^  /{print suite $1}'); do
  timeout 120 "$bin/test_vulkan_paths" --gtest_filter="$case" >>"$out/test_vulkan_paths.txt" 2>&1 || paths_status=1
done
say "test_vulkan_paths: $([ $paths_status = 0 ] && echo passed || echo FAILED)"
grep -E "ternary matmul path|worst rel_rms" "$out/test_vulkan_paths.txt" | head -8 | tee -a "$log"
fi

say "== bitnet-bench, synthetic $preset (i2_s)"
mkdir -p "$out/test-tmp"
model=$out/test-tmp/$preset-i2_s.gguf
[ -f "$model" ] || "$bin/bitnet" synth --preset "$preset" --format i2_s -o "$model" >/dev/null 2>&1
bench() {
  local name=$1; shift
  timeout 240 "$bin/bitnet-bench" -m "$model" "$@" >"$out/bench-$name.txt" 2>&1
  say "-- $name (exit $?): bitnet-bench $*"
  cat "$out/bench-$name.txt" >>"$log"
}
bench vulkan-f16-head --backend vulkan -p 128,512 -n 128 -r 3
bench vulkan-q8_0-head --backend vulkan --head-type q8_0 -p 128 -n 128 -r 3
# The 2-core CPU prefill figure the issue compares with (bench/RESULTS.md has the shared VM's).
bench cpu-2-threads --backend cpu -t 2 -p 128 -n 1 -r 3
rm -f "$model"
rm -rf "$out/test-tmp"
say "== done: $out"
