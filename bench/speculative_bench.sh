#!/usr/bin/env bash
# Speculative decoding on the default model (bench/RESULTS.md, "Speculative decoding"): generation
# tokens/s of plain decoding, prompt lookup and a draft model, interleaved run by run so that the
# machine's load hits every mode alike; prints each run and the medians with the acceptance rates.
# usage: bench/speculative_bench.sh BITNET_BINARY TARGET.gguf DRAFT.gguf|- [RUNS] [extra run options...]
# (DRAFT - : prompt lookup only)
set -euo pipefail
bitnet=${1:?bitnet binary}
target=${2:?target model}
draft=${3:?draft model}
runs=${4:-5}
shift $(( $# < 4 ? $# : 4 ))
extra=("$@")

# (1) a repetitive task: the prompt repeats a passage three times and starts it a fourth time
# (the 128-token context of the default model leaves no room for a longer text to edit); (2) free
# writing.
repeat_prompt='Whatever you do, do it well. Whatever you do, do it well. Whatever you do, do it well. Whatever you do,'
free_prompt='The secret of life is'

modes=(plain "lookup:--lookup 2 --draft-max 8")
[ "$draft" != - ] && modes+=("draft:--draft-model $draft --draft-max 4")
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for task in repeat free; do
  prompt=$repeat_prompt; [ $task = free ] && prompt=$free_prompt
  declare -A rates=() accept=()
  for run in $(seq "$runs"); do
    for mode in "${modes[@]}"; do
      name=${mode%%:*}; options=""; [ "$name" != plain ] && options=${mode#*:}
      # shellcheck disable=SC2086
      log=$("$bitnet" run -m "$target" -p "$prompt" -n 64 -t 1 "${extra[@]}" $options 2>&1 >/dev/null)
      rate=$(sed -n 's/.*generation: [0-9]* tokens in [0-9.]* s (\([0-9.]*\) tok\/s).*/\1/p' <<<"$log")
      acc=$(sed -n 's/.*accepted (\([0-9.]*\)%).*/\1/p' <<<"$log")
      echo "$task run $run $name: $rate tok/s ${acc:+acceptance $acc%}"
      rates[$name]+="$rate "
      accept[$name]+="${acc:-0} "
    done
  done
  for mode in "${modes[@]}"; do
    name=${mode%%:*}
    m=$(tr ' ' '\n' <<<"${rates[$name]}" | grep . | median)
    a=$(tr ' ' '\n' <<<"${accept[$name]}" | grep . | median)
    echo "MEDIAN $task $name: $m tok/s, acceptance $a%"
  done
  unset rates accept
done
