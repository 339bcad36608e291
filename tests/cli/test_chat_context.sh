#!/usr/bin/env bash
# `bitnet chat` with a small context: turns go on after the context fills by dropping old tokens
# (and say so), the shifted conversation saves and resumes with --prompt-cache (which reports the
# state's size), and when no shift can help the error says what happened and what to do.
set -euo pipefail
bitnet=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-chat-context-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> /dev/null
# The synthetic vocabulary spells text byte by byte, so each turn adds about 30 tokens: -c 64 fills
# in the second turn.
printf 'first message\nsecond message\nthe third one\na fourth turn\n' |
  "$bitnet" chat -m "$work/tiny.gguf" --system "Be brief." -c 64 -n 6 --temp 0 --prompt-cache "$work/cache" \
  > "$work/out.txt" 2> "$work/err.txt" || fail "chat with -c 64 failed: $(cat "$work/err.txt")"
grep "^\[chat\]" "$work/err.txt"
[ "$(grep -c '^\[chat\] turn' "$work/err.txt")" -eq 4 ] || fail "expected four turns"
drops=$(grep -c '^\[chat\] context full: dropped [1-9][0-9]* old tokens' "$work/err.txt" || true)
[ "$drops" -ge 1 ] || fail "the context never shifted (no 'dropped N old tokens' line)"
# Every turn after the first shift still generated its reply.
for turn in 2 3 4; do
  grep "^\[chat\] turn $turn: .* generated [1-9][0-9]* tokens" "$work/err.txt" > /dev/null ||
    fail "turn $turn generated nothing after the context shift"
done
# --prompt-cache reports the state it saved, with the file's true size.
saved=$(sed -n 's/^\[chat\] prompt cache: saved [0-9]* tokens to .* (state \([0-9]*\) bytes, .*/\1/p' "$work/err.txt" | tail -n 1)
[ -n "$saved" ] || fail "--prompt-cache does not report the state size"
[ "$saved" -eq "$(stat -c %s "$work/cache")" ] || fail "reported $saved state bytes, the file has $(stat -c %s "$work/cache")"
[ "$(grep -c '^\[chat\] prompt cache: saved' "$work/err.txt")" -eq 4 ] || fail "expected one prompt cache line per turn"

# The shifted conversation resumes in a new process.
printf 'a fifth turn\n' |
  "$bitnet" chat -m "$work/tiny.gguf" -c 64 -n 6 --temp 0 --prompt-cache "$work/cache" > /dev/null 2> "$work/err2.txt" ||
  fail "resuming the shifted chat failed: $(cat "$work/err2.txt")"
grep "^\[chat\] resumed 9 messages" "$work/err2.txt" > /dev/null || fail "did not resume 9 messages: $(cat "$work/err2.txt")"
grep "^\[chat\] turn 1: .* generated [1-9]" "$work/err2.txt" > /dev/null || fail "the resumed turn generated nothing"

# When the context cannot make room, the error says why and what to do (exit 1).
expect_context_full() {  # expect_context_full WHAT EXPECTED-TEXT COMMAND-ARGS... (stdin: the messages)
  local what=$1 expected=$2; shift 2
  set +e
  "$bitnet" chat -m "$work/tiny.gguf" "$@" > /dev/null 2> "$work/err3.txt"
  local code=$?
  set -e
  [ "$code" -eq 1 ] || fail "$what: exit $code (expected 1)"
  grep "^bitnet: chat: context full: no room for .*[a-z]" "$work/err3.txt" > /dev/null ||
    fail "$what: no explanation: $(cat "$work/err3.txt")"
  grep -F -- "$expected" "$work/err3.txt" > /dev/null || fail "$what: message lacks '$expected': $(cat "$work/err3.txt")"
  echo "$what: $(grep '^bitnet: chat:' "$work/err3.txt")"
}
printf 'first message\nsecond message\n' |
  expect_context_full "--no-context-shift" "start a new chat, or use a larger -c" \
  --system "Be brief." -c 64 -n 6 --temp 0 --no-context-shift
printf 'hello\n' | expect_context_full "reply longer than the context" "use a larger -c, a smaller -n" -c 32 -n 40 --temp 0
echo "chat context test passed"
