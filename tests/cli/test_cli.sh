#!/usr/bin/env bash
# The `bitnet` tool end to end: synth, inspect (text and JSON), run, logits, and hostile inputs
# that must end in an error message and a non-zero exit, never a crash.
set -euo pipefail
bitnet=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> "$work/synth.log"
grep -q "weights are random" "$work/synth.log" || fail "synth does not say the weights are random"

"$bitnet" inspect --json "$work/tiny.gguf" > "$work/inspect.json"
python3 - "$work/inspect.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
assert info["architecture"] == "bitnet-b1.58", info["architecture"]
assert info["n_tensors"] == 24 == len(info["tensors"]), info["n_tensors"]
assert info["n_vocab"] == 259 and info["n_params"] > 0 and info["file_size"] > 0
names = {t["name"]: t for t in info["tensors"]}
assert names["blk.0.attn_q.weight"]["type"] == "i2_s" and names["blk.0.attn_q.weight"]["shape"] == [256, 256]
assert names["token_embd.weight"]["type"] == "f16"
assert len(info["metadata"]) == 24
print("inspect --json: ok,", info["n_tensors"], "tensors, load", info["load_ms"], "ms")
PY
"$bitnet" inspect "$work/tiny.gguf" | grep "^architecture: bitnet-b1.58" > /dev/null || fail "inspect text output"

"$bitnet" run -m "$work/tiny.gguf" --tokens "1 2 3" -n 4 > "$work/run.out" 2> "$work/run.err"
grep -q "tok/s" "$work/run.err" || fail "run does not report speeds"

# Generation prints text after the prompt (the README's main job, on the tiny shape).
"$bitnet" run -m "$work/tiny.gguf" -p "Hello" -n 16 --seed 1 > "$work/hello.out" 2> "$work/hello.err" ||
  fail "run -p Hello failed: $(cat "$work/hello.err")"
[ "$(head -c 5 "$work/hello.out")" = "Hello" ] || fail "run does not print the prompt first"
[ "$(wc -c < "$work/hello.out")" -gt 6 ] || fail "run -p Hello -n 16 printed nothing after the prompt"

"$bitnet" logits -m "$work/tiny.gguf" --tokens "1 2 3 4 5" -o "$work/logits.f32" 2> /dev/null
size=$(stat -c %s "$work/logits.f32")
[ "$size" -eq $((5 * 259 * 4)) ] || fail "logits file has $size bytes, expected $((5 * 259 * 4))"

# --no-mmap reads the same bytes into memory: the same logits, byte for byte. --head-type
# re-encodes the lm_head, which changes them; an unknown type is a usage error.
"$bitnet" logits -m "$work/tiny.gguf" --tokens "1 2 3 4 5" --no-mmap -o "$work/logits-read.f32" 2> /dev/null
cmp "$work/logits.f32" "$work/logits-read.f32" || fail "--no-mmap changed the logits"
"$bitnet" logits -m "$work/tiny.gguf" --tokens "1 2 3 4 5" --head-type q4_0 -o "$work/logits-q4.f32" 2> /dev/null
[ "$(stat -c %s "$work/logits-q4.f32")" -eq "$size" ] || fail "--head-type q4_0 logits have the wrong size"
if cmp -s "$work/logits.f32" "$work/logits-q4.f32"; then fail "--head-type q4_0 did not re-encode the lm_head"; fi
set +e
"$bitnet" run -m "$work/tiny.gguf" --tokens "1 2" -n 2 --head-type q2 > /dev/null 2> "$work/err.txt"
code=$?
set -e
[ "$code" -eq 2 ] || fail "--head-type q2: exit code $code (expected 2)"
grep "head-type must be" "$work/err.txt" > /dev/null || fail "--head-type q2 message: $(cat "$work/err.txt")"

expect_error() {  # expect_error WHAT COMMAND...: exit 1 (not a signal) and a message on stderr
  local what=$1; shift
  set +e
  "$@" > /dev/null 2> "$work/err.txt"
  local code=$?
  set -e
  [ "$code" -eq 1 ] || fail "$what: exit code $code (expected 1); stderr: $(cat "$work/err.txt")"
  [ -s "$work/err.txt" ] || fail "$what: no error message"
}
expect_error "missing file" "$bitnet" inspect "$work/missing.gguf"
grep -q "missing.gguf" "$work/err.txt" || fail "missing file message does not name the path"
size=$(stat -c %s "$work/tiny.gguf")
for length in 0 3 8 24 100 1000 5000 $((size / 2)) $((size - 1)); do
  head -c "$length" "$work/tiny.gguf" > "$work/truncated.gguf"
  expect_error "truncated to $length" "$bitnet" inspect "$work/truncated.gguf"
done
head -c 4096 /dev/urandom > "$work/random.gguf"
expect_error "random bytes" "$bitnet" inspect "$work/random.gguf"
expect_error "token out of range" "$bitnet" run -m "$work/tiny.gguf" --tokens "1 99999" -n 2
grep -q "invalid input" "$work/err.txt" || fail "bad token id does not say invalid input: $(cat "$work/err.txt")"

set +e
"$bitnet" no-such-command > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command should exit 2"
"$bitnet" synth --preset huge --format i2_s -o "$work/x.gguf" 2> "$work/err.txt"; [ $? -eq 1 ] || fail "bad preset"
set -e
grep -q "unknown preset" "$work/err.txt" || fail "bad preset message"
echo "cli test passed"
