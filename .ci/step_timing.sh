# Step timing for .ci/run (sourced): how the next engineer sees where CI's minutes go.
#   ci_step "NAME"   ends the step before (printing "== NAME: N s") and starts NAME;
#   at exit, passed or failed, a table of every step's seconds and the total is printed (the step
#   that failed is marked) and also written to $CI_STEP_TIMES (default: ci-step-times.txt in the
#   current folder; gitignored).
# Whole seconds from bash's SECONDS: the steps take minutes, so finer clocks would add nothing.
ci_step_names=()
ci_step_seconds=()
ci_step_current=""
ci_step_start=0
ci_run_start=$SECONDS
CI_STEP_TIMES=${CI_STEP_TIMES:-$(pwd)/ci-step-times.txt}

ci_step_end() {  # ci_step_end [NOTE]: records the running step (NOTE: e.g. that it failed)
  [[ -n $ci_step_current ]] || return 0
  local elapsed=$((SECONDS - ci_step_start))
  ci_step_names+=("$ci_step_current${1:+ [$1]}")
  ci_step_seconds+=("$elapsed")
  echo "== $ci_step_current: $elapsed s${1:+ [$1]}"
  ci_step_current=""
}

ci_step() {  # ci_step NAME
  ci_step_end
  ci_step_current=$1
  ci_step_start=$SECONDS
  echo "== $1"
}

ci_step_table() {
  local i total=$((SECONDS - ci_run_start))
  echo "== CI step times ($(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg))"
  for i in "${!ci_step_names[@]}"; do
    ci_step_row "${ci_step_seconds[$i]}" "${ci_step_names[$i]}"
  done
  ci_step_row "$total" "total"
}

ci_step_row() {  # ci_step_row SECONDS NAME (awk for the minutes: a fresh machine may have no bc)
  awk -v s="$1" -v name="$2" 'BEGIN { printf "%6d s %6.1f min  %s\n", s, s / 60, name }'
}

ci_step_on_exit() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    ci_step_end "FAILED, exit $status"
  else
    ci_step_end
  fi
  ci_step_table | tee "$CI_STEP_TIMES"
  exit "$status"
}
trap ci_step_on_exit EXIT
