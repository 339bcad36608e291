#!/usr/bin/env bash
# bitnet-bench -np (issue 17): N parallel sequences, llama-batched-bench style, on a tiny synthetic
# model. Checks the option's contract, not speed (no timed tests): one JSON row per N with the
# counts asked for, positive rates, per-sequence = aggregate / N; the table form names every N;
# bad values are refused with a message.
#   test_bench_parallel.sh BITNET BITNET_BENCH
set -euo pipefail
bitnet=$1
bench=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-bench-np-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> /dev/null

echo "== -np 1,3 --json"
"$bench" -m "$work/tiny.gguf" -p 0 -n 0 -np 1,3 -npp 7 -ntg 5 -r 2 -t 2 --json > "$work/np.json" \
  || fail "bitnet-bench -np failed"
cat "$work/np.json"
python3 - "$work/np.json" <<'PY' || fail "JSON rows wrong"
import json, sys
rows = json.load(open(sys.argv[1]))
assert [r["test"] for r in rows] == ["np1", "np3"], rows
for r, n in zip(rows, (1, 3)):
    assert r["n_seq"] == n and r["n_prompt"] == 7 and r["n_gen"] == 5, r
    assert r["tok_s_min"] > 0 and r["tok_s_min"] <= r["tok_s_median"] <= r["tok_s_max"], r
    assert abs(r["tok_s_per_seq"] * n - r["tok_s_median"]) <= 1e-3 * r["tok_s_median"] + 2e-3, r
    assert r["prompt_tok_s"] > 0, r
PY

echo "== table form, with the pp/tg tests"
"$bench" -m "$work/tiny.gguf" -p 8 -n 4 -np 2 -npp 4 -ntg 3 -r 1 > "$work/np.txt" || fail "table run failed"
cat "$work/np.txt"
grep -q "| pp8 " "$work/np.txt" || fail "pp8 row missing"
grep -q "| np2 pp4+tg3 " "$work/np.txt" || fail "np2 row missing"

echo "== bad values are refused"
if "$bench" -m "$work/tiny.gguf" -np 65 2> "$work/err.txt"; then fail "-np 65 accepted"; fi
grep -q "at most 64" "$work/err.txt" || { cat "$work/err.txt"; fail "no message for -np 65"; }
if "$bench" -m "$work/tiny.gguf" -np 2 -ntg 0 2> "$work/err.txt"; then fail "-ntg 0 accepted"; fi
grep -q "ntg" "$work/err.txt" || { cat "$work/err.txt"; fail "no message for -ntg 0"; }
echo "ok"
