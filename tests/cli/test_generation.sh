#!/usr/bin/env bash
# `bitnet run` sampling options (--temp/--top-k/--top-p/--min-p/--repeat-penalty/--seed, --stop)
# and `bitnet tokenize` (output format, --ids-only, --stdin byte for byte, `--`). Runs on a tiny
# model with the Llama 3 vocabulary of ../shared/fixtures (or $BITNET_FIXTURES) when present, else
# with the synthetic byte-level vocabulary; checks that need the real vocabulary say "skipped".
set -euo pipefail
bitnet=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-generation-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

fixtures=${BITNET_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/fixtures}
vocab="$fixtures/vocab/ggml-vocab-llama3-bpe.gguf"
model="$work/tiny.gguf"
if [ -f "$vocab" ]; then
  have_vocab=1
  "$bitnet" synth --preset tiny --format i2_s --vocab "$vocab" -o "$model" 2> /dev/null || fail "synth --vocab failed"
  echo "model: tiny with the Llama 3 vocabulary ($vocab)"
else
  have_vocab=0
  "$bitnet" synth --preset tiny --format i2_s -o "$model" 2> /dev/null || fail "synth failed"
  echo "model: tiny with the synthetic vocabulary (skipped: the Llama 3 vocabulary checks; no $vocab)"
fi

# --- run: sampling options and seeds -------------------------------------------------------------
sampling=(--temp 0.9 --top-k 20 --top-p 0.9 --min-p 0.02 --repeat-penalty 1.1 --repeat-last-n 16)
generate() {  # generate OUT SEED [extra options...]: stdout of `bitnet run` into OUT
  local out=$1 seed=$2; shift 2
  "$bitnet" run -m "$model" -p "Hello" -n 12 "${sampling[@]}" --seed "$seed" "$@" > "$out" 2> "$out.err" ||
    fail "run --seed $seed $* failed: $(cat "$out.err")"
}
generate "$work/seed7a.txt" 7
generate "$work/seed7b.txt" 7
cmp -s "$work/seed7a.txt" "$work/seed7b.txt" || fail "the same seed gave different outputs"
grep "seed 7" "$work/seed7a.txt.err" > /dev/null || fail "run does not report the seed it used"
[ "$(head -c 5 "$work/seed7a.txt")" = "Hello" ] || fail "run does not print the prompt first"
[ "$(wc -c < "$work/seed7a.txt")" -gt 6 ] || fail "run printed nothing after the prompt"
for seed in 1 2 3 4 5 6; do generate "$work/seed$seed.txt" "$seed"; done
distinct=$(for seed in 1 2 3 4 5 6 7a; do md5sum < "$work/seed$seed.txt"; done | sort -u | wc -l)
[ "$distinct" -ge 3 ] || fail "7 seeds gave only $distinct distinct outputs"
echo "run: one seed reproduces its output; 7 seeds gave $distinct distinct outputs"

set +e
"$bitnet" run -m "$model" -p "Hello" -n 2 --temp abc > /dev/null 2> "$work/err.txt"; code=$?
set -e
[ "$code" -eq 2 ] || fail "--temp abc: exit $code (expected 2)"
grep "needs a number" "$work/err.txt" > /dev/null || fail "--temp abc: message: $(cat "$work/err.txt")"

# --stop: the output of one seed, cut where a stop string taken from its middle first occurs.
python3 - "$bitnet" "$model" "$work" "${sampling[@]}" <<'PY'
import subprocess, sys
bitnet, model, work, sampling = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def run(*extra):
    result = subprocess.run([bitnet, "run", "-m", model, "-p", "Hello", "-n", "12", *sampling, "--seed", "7", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return result.stdout
full = open(work + "/seed7a.txt", "rb").read()
assert full.startswith(b"Hello") and full.endswith(b"\n"), full
generated = full[len(b"Hello"):-1]
assert len(generated) >= 2, "too little text to cut: %r" % full
# The 3-byte window whose first occurrence is latest (the middle of the text where that is possible).
windows = [generated[i:i + 3] for i in range(len(generated) - 2) if b"\0" not in generated[i:i + 3]]
assert windows, "no stop string to take from %r" % generated
stop = max(windows, key=lambda w: min(generated.find(w), len(generated) // 2))
expected = b"Hello" + generated[:generated.find(stop)] + b"\n"
cut = run("--stop", stop)
assert cut == expected, "--stop %r: got %r, expected %r (full %r)" % (stop, cut, expected, full)
# A stop string that never occurs changes nothing.
assert run("--stop", "\x01never\x01") == full
print("run --stop %r: output cut at offset %d of %d" % (stop, generated.find(stop), len(generated)))
PY

# --- tokenize ------------------------------------------------------------------------------------
"$bitnet" tokenize -m "$model" "Hello world" > "$work/pieces.txt" || fail "tokenize failed"
"$bitnet" tokenize -m "$model" --ids-only "Hello world" > "$work/ids.txt" || fail "tokenize --ids-only failed"
python3 - "$work/pieces.txt" "$work/ids.txt" "$have_vocab" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
ids_line = open(sys.argv[2]).read()
assert ids_line.endswith("\n") and ids_line.count("\n") == 1, repr(ids_line)
ids = [int(x) for x in ids_line.split(" ")]
assert all(re.fullmatch(r"\d+\t'.*'", line) for line in lines), lines
assert [int(line.split("\t")[0]) for line in lines] == ids, (lines, ids)
pieces = [line.split("\t", 1)[1][1:-1] for line in lines]
assert pieces[0] == "<|begin_of_text|>", pieces
assert "".join(pieces[1:]) == "Hello world", pieces
if sys.argv[3] == "1":
    assert ids == [128000, 9906, 1917], ids
    assert pieces == ["<|begin_of_text|>", "Hello", " world"], pieces
else:
    print("skipped: the Llama 3 ids of 'Hello world' (no vocabulary fixture)")
    assert ids == [256] + list(b"Hello world"), ids  # byte tokens have the byte's id
print("tokenize: %d tokens, pieces and --ids-only agree" % len(ids))
PY

# --stdin is byte-exact: a NUL byte, an invalid UTF-8 byte, a tab, a quote and a backslash.
printf 'a\000b\377c -x\t\x27q\\ \xc3\xa9\n' > "$work/input.bin"
"$bitnet" tokenize -m "$model" --no-special --stdin < "$work/input.bin" > "$work/stdin_pieces.txt" ||
  fail "tokenize --stdin failed"
"$bitnet" tokenize -m "$model" --no-special --ids-only --stdin < "$work/input.bin" > "$work/stdin_ids.txt" ||
  fail "tokenize --stdin --ids-only failed"
python3 - "$work/input.bin" "$work/stdin_pieces.txt" "$work/stdin_ids.txt" "$have_vocab" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
assert len(data) == 16 and b"\0" in data and b"\xff" in data, data
def unescape(piece):  # the escapes of `bitnet tokenize`: \n \r \t \\ \' \xHH
    out, i = bytearray(), 0
    raw = piece.encode("utf-8")
    while i < len(raw):
        if raw[i:i + 1] == b"\\":
            c = raw[i + 1:i + 2]
            if c == b"x":
                out.append(int(raw[i + 2:i + 4], 16)); i += 4; continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"\\": b"\\", b"'": b"'"}[c]; i += 2; continue
        out.append(raw[i]); i += 1
    return bytes(out)
lines = open(sys.argv[2], encoding="utf-8").read().splitlines()
assert all(re.fullmatch(r"\d+\t'.*'", line) for line in lines), lines
joined = b"".join(unescape(line.split("\t", 1)[1][1:-1]) for line in lines)
assert joined == data, "pieces %r join to %r, the input was %r" % (lines, joined, data)
ids = [int(x) for x in open(sys.argv[3]).read().split()]
assert ids == [int(line.split("\t")[0]) for line in lines], ids
if sys.argv[4] == "0":
    assert ids == list(data), ids  # the synthetic vocabulary: one byte token per byte
print("tokenize --stdin: %d bytes (NUL and 0xFF included) -> %d tokens, byte-exact" % (len(data), len(ids)))
PY

# `--` ends the options: the text may begin with '-'; without it such a text is an unknown option.
"$bitnet" tokenize -m "$model" --no-special -- "-n 5" > "$work/dash.txt" || fail "tokenize -- '-n 5' failed"
python3 - "$work/dash.txt" <<'PY'
import sys
pieces = [line.split("\t", 1)[1][1:-1] for line in open(sys.argv[1], encoding="utf-8").read().splitlines()]
assert "".join(pieces) == "-n 5", pieces
PY
"$bitnet" tokenize -m "$model" --no-special --ids-only -- --stdin < /dev/null > "$work/dash2.txt" ||
  fail "tokenize -- --stdin failed"
[ -s "$work/dash2.txt" ] || fail "tokenize -- --stdin should tokenize the text '--stdin'"
set +e
"$bitnet" tokenize -m "$model" "-n 5" > /dev/null 2> "$work/err.txt"; code=$?
set -e
[ "$code" -eq 2 ] || fail "tokenize '-n 5' without --: exit $code (expected 2)"
grep "use -- before" "$work/err.txt" > /dev/null || fail "tokenize '-n 5': message: $(cat "$work/err.txt")"
echo "tokenize: -- lets a text begin with '-'"
echo "generation test passed"
