#!/usr/bin/env bash
# Run every fuzz target of a -DBITNET_FUZZ=ON build for a long time, JOBS targets at once, keeping
# the corpora in a folder outside the tree so that the next run starts where this one stopped.
#   tests/fuzz/run_long.sh SECONDS JOBS CORPUS_DIR [BUILD_DIR (default build-fuzz)]
# Each target runs once for SECONDS (libFuzzer stops at its first failure and saves the input as
# CORPUS_DIR/fuzz_<name>/crash-*, leak-*, timeout-* or oom-*). At the end it prints, per target,
# the executions, the executions per second and the failures; the exit status is 0 when none
# failed. Extra libFuzzer flags can be given in FUZZ_FLAGS (e.g. FUZZ_FLAGS="-max_len=65536").
set -uo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
seconds=$1 jobs=$2 corpus=$3 build=${4:-build-fuzz}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$corpus"
corpus=$(cd "$corpus" && pwd)
shopt -s nullglob
targets=("$build"/bin/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz_* programs in $build/bin (configure with -DBITNET_FUZZ=ON)" >&2; exit 2; }

run_one() {  # binary -> CORPUS/<name>.log and CORPUS/<name>.status
  local name
  name=$(basename "$1")
  # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
  # -timeout: libFuzzer's per-input timeout is wall-clock; a nice'd run on a busy machine needs room.
  bash "$here/run_fuzzer.sh" "$1" "$corpus" "$seconds" -timeout=120 ${FUZZ_FLAGS:-} > "$corpus/$name.log" 2>&1
  echo $? > "$corpus/$name.status"
}
export -f run_one
export here corpus seconds
echo "fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time; corpora and logs in $corpus"
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

failed=0
printf '%-22s %14s %10s %9s  %s\n' target executions exec/s failures notes
for binary in "${targets[@]}"; do
  name=$(basename "$binary")
  log=$corpus/$name.log
  status=$(cat "$corpus/$name.status" 2>/dev/null || echo 1)
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$")
  speed=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$")
  # Stopped before libFuzzer's final statistics: its last progress line ("#N ...") tells.
  [ -n "$runs" ] || runs=$(grep -oE "^#[0-9]+" "$log" | tail -1 | tr -d '#')
  artifacts=("$corpus/$name"/crash-* "$corpus/$name"/leak-* "$corpus/$name"/timeout-* "$corpus/$name"/oom-*)
  failures=${#artifacts[@]}
  note=""
  if [ "$status" -eq 77 ]; then
    note="skipped: $(grep -m1 skipped "$log")"
  elif [ "$status" -ne 0 ]; then
    [ "$failures" -gt 0 ] || failures=1
    note="exit $status, see $log ${artifacts[*]}"
  fi
  [ "$failures" -eq 0 ] || failed=1
  printf '%-22s %14s %10s %9s  %s\n' "$name" "${runs:-?}" "${speed:-?}" "$failures" "$note"
done
exit $failed
