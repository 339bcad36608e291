#!/usr/bin/env bash
# Speculative decoding in `bitnet run` and `bitnet chat` (--lookup N, --draft-model, --draft-max):
# at temperature 0 the text is the plain run's (the library's test_speculative checks the tokens
# and the sampled distribution), the acceptance line is printed, and bad options are refused.
# Uses the trained default model and its draft model (models/), whose vocabularies match.
set -euo pipefail
bitnet=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
target="$root/models/fortunes-nano.gguf"
draft="$root/models/fortunes-pico.gguf"
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-speculative-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

prompt='Whatever you do, do it well. Whatever you do, do it well. Whatever you do,'
run() {  # run OUT [options...]
  local out=$1; shift
  "$bitnet" run -m "$target" -p "$prompt" -n 48 --temp 0 -t 1 "$@" > "$out" 2> "$out.err" ||
    fail "run $* failed: $(cat "$out.err")"
}
run "$work/plain.txt"
run "$work/lookup.txt" --lookup 2 --draft-max 6
run "$work/draft.txt" --draft-model "$draft" --draft-max 3
cmp -s "$work/plain.txt" "$work/lookup.txt" || fail "run --lookup changed the greedy output"
cmp -s "$work/plain.txt" "$work/draft.txt" || fail "run --draft-model changed the greedy output"
grep -q "draft: [0-9]* drafted, [0-9]* accepted" "$work/lookup.txt.err" || fail "run --lookup reports no acceptance"
grep -q "draft: [0-9]* drafted, [0-9]* accepted" "$work/draft.txt.err" || fail "run --draft-model reports no acceptance"

# A stop string inside a verified draft: the text stops there, as without drafting.
run "$work/stop-plain.txt" --stop "well"
run "$work/stop-lookup.txt" --stop "well" --lookup 1
cmp -s "$work/stop-plain.txt" "$work/stop-lookup.txt" || fail "run --lookup handled --stop differently"

# chat: two turns, the cache kept between them.
chat() {  # chat OUT [options...]
  local out=$1; shift
  printf 'hello there\nsay it again\n' | "$bitnet" chat -m "$target" --template llama2 --temp 0 -n 24 -t 1 "$@" \
    > "$out" 2> "$out.err" || fail "chat $* failed: $(cat "$out.err")"
}
chat "$work/chat-plain.txt"
chat "$work/chat-lookup.txt" --lookup 2
chat "$work/chat-draft.txt" --draft-model "$draft"
cmp -s "$work/chat-plain.txt" "$work/chat-lookup.txt" || fail "chat --lookup changed the greedy replies"
cmp -s "$work/chat-plain.txt" "$work/chat-draft.txt" || fail "chat --draft-model changed the greedy replies"
[ "$(grep -c '\[chat\] draft:' "$work/chat-draft.txt.err")" = 2 ] || fail "chat reports no acceptance per turn"

# Bad options: refused with a message, no crash.
expect_refusal() {  # expect_refusal PATTERN [options...]
  local pattern=$1; shift
  if "$bitnet" run -m "$target" -p "x" -n 4 "$@" > "$work/bad.txt" 2>&1; then fail "run $* was accepted"; fi
  grep -q "$pattern" "$work/bad.txt" || fail "run $*: no message matching '$pattern': $(cat "$work/bad.txt")"
}
expect_refusal "draft-max needs an integer" --lookup 2 --draft-max 0
expect_refusal "draft-max needs an integer" --lookup 2 --draft-max 100000
expect_refusal "lookup needs an integer" --lookup 0
expect_refusal "choose one" --lookup 2 --draft-model "$draft"
expect_refusal "cannot open\|No such file\|not found" --draft-model "$work/missing.gguf"
"$bitnet" synth --preset tiny --format i2_s -o "$work/other-vocab.gguf" 2> /dev/null || fail "synth failed"
expect_refusal "vocabulary" --draft-model "$work/other-vocab.gguf"
echo "ok: speculative run and chat"
