#!/usr/bin/env bash
# `bitnet chat` driven by a script: three turns work, the second and third process only their new
# tokens (checked against the tokenizer's count for the text each turn adds), and --prompt-cache
# resumes the conversation in a new process without reprocessing it.
set -euo pipefail
bitnet=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-chat-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> /dev/null
count_tokens() {  # tokens of a conversation continuation in the model's vocabulary
  "$bitnet" tokenize -m "$work/tiny.gguf" --ids-only --no-special --parse-special -- "$1" | wc -w
}
processed() { sed -n "s/^\[chat\] turn $1: .* processed \([0-9]*\) new tokens.*/\1/p" "$2"; }

printf 'first message\nsecond message\nthe third one\n' |
  "$bitnet" chat -m "$work/tiny.gguf" --system "Be brief." -n 6 --temp 0 --prompt-cache "$work/cache" \
  > "$work/out.txt" 2> "$work/err.txt" || fail "chat failed: $(cat "$work/err.txt")"
grep "^\[chat\]" "$work/err.txt"
[ "$(grep -c '^\[chat\] turn' "$work/err.txt")" -eq 3 ] || fail "expected three turns"
for turn in 2 3; do
  message=$(sed -n "${turn}p" <<< $'first message\nsecond message\nthe third one')
  expected=$(count_tokens "User: $message<|eot_id|>Assistant: ")
  actual=$(processed "$turn" "$work/err.txt")
  [ "$actual" = "$expected" ] || fail "turn $turn processed $actual tokens, its new text has $expected"
done
reused=$(sed -n 's/^\[chat\] turn 3: reused \([0-9]*\) cached.*/\1/p' "$work/err.txt")
[ "$reused" -gt 20 ] || fail "turn 3 reused only $reused cached tokens"

printf 'a fourth turn\n' | "$bitnet" chat -m "$work/tiny.gguf" -n 4 --temp 0 --prompt-cache "$work/cache" \
  > /dev/null 2> "$work/err2.txt" || fail "resumed chat failed: $(cat "$work/err2.txt")"
grep "^\[chat\]" "$work/err2.txt"
grep -q "^\[chat\] resumed 7 messages" "$work/err2.txt" || fail "did not resume 7 messages"
expected=$(count_tokens "User: a fourth turn<|eot_id|>Assistant: ")
[ "$(processed 1 "$work/err2.txt")" = "$expected" ] || fail "the resumed turn reprocessed the conversation"
echo "chat test passed"
