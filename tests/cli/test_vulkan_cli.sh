#!/usr/bin/env bash
# The command-line tools on the Vulkan backend, on a tiny synthetic model: `bitnet run --backend
# vulkan`, `bitnet logits --backend vulkan` (its logits file against the CPU's, within a tolerance)
# and `bitnet-bench --backend vulkan`. Without a Vulkan device (or in a build without Vulkan) it
# prints "skipped: ..." and passes; test_vulkan is the test that insists on a device.
#   test_vulkan_cli.sh BITNET [BITNET_BENCH]   (no BITNET_BENCH: the bench part is skipped)
set -euo pipefail
bitnet=$1
bench=${2:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-vulkan-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# bitnet_build_info() (in `bitnet --version`) lists the Vulkan devices, or says there are none.
"$bitnet" --version > "$work/version.txt"
info=$(tail -1 "$work/version.txt")
echo "build: $info"
case "$info" in
  *"backends cpu,vulkan; vulkan devices: none"*) echo "skipped: no Vulkan device: ${info##*vulkan devices: }"; exit 0 ;;
  *"backends cpu,vulkan; vulkan devices: "*) ;;
  *) echo "skipped: this build has no Vulkan backend"; exit 0 ;;
esac

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> /dev/null
tokens="1 2 3 4 5 6 7 8"

echo "== bitnet run --backend vulkan"
"$bitnet" run -m "$work/tiny.gguf" --tokens "$tokens" -n 6 --temp 0 --ignore-eos --backend vulkan \
  > "$work/run.out" 2> "$work/run.err" || { cat "$work/run.err"; fail "bitnet run --backend vulkan failed"; }
grep "tok/s" "$work/run.err" | grep "; vulkan " > /dev/null || { cat "$work/run.err"; fail "run did not report a Vulkan backend"; }
grep "generation: 6 tokens" "$work/run.err" > /dev/null || { cat "$work/run.err"; fail "run did not generate 6 tokens"; }
tail -1 "$work/run.err"

echo "== bitnet logits --backend vulkan against --backend cpu"
# Float activations: the backends then differ only in float summation order. With int8 activations
# a value near a rounding boundary may round differently, so the tolerance is looser.
compare_logits() {  # compare_logits LABEL TOLERANCE [OPTIONS...]
  local label=$1 tolerance=$2; shift 2
  for backend in cpu vulkan; do
    "$bitnet" logits -m "$work/tiny.gguf" --tokens "$tokens" --backend "$backend" "$@" -o "$work/$backend.f32" \
      2> "$work/logits-$backend.err" || { cat "$work/logits-$backend.err"; fail "bitnet logits --backend $backend failed"; }
  done
  python3 - "$work/cpu.f32" "$work/vulkan.f32" "$tolerance" "$label" <<'PY'
import math, struct, sys
cpu_path, vulkan_path, tolerance, label = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
def read(path):
    data = open(path, "rb").read()
    return struct.unpack("<%df" % (len(data) // 4), data)
cpu, vulkan = read(cpu_path), read(vulkan_path)
assert len(cpu) == len(vulkan) and len(cpu) % 8 == 0 and len(cpu) > 0, (len(cpu), len(vulkan))
assert all(math.isfinite(v) for v in vulkan), "non-finite Vulkan logits"
n_vocab = len(cpu) // 8
worst = 0.0
for t in range(8):
    a, b = cpu[t * n_vocab:(t + 1) * n_vocab], vulkan[t * n_vocab:(t + 1) * n_vocab]
    mean = sum(a) / n_vocab
    spread = math.sqrt(sum((x - mean) ** 2 for x in a) / n_vocab)
    error = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / n_vocab)
    worst = max(worst, error / spread)
print("logits %s: 8 x %d, worst relative rms %.3g (tolerance %g)" % (label, n_vocab, worst, tolerance))
sys.exit(0 if worst <= tolerance else 1)
PY
}
compare_logits "float activations" 1e-3 --no-act-quant || fail "Vulkan logits differ from the CPU's (float activations)"
compare_logits "int8 activations" 0.04 || fail "Vulkan logits differ from the CPU's (int8 activations)"

if [ -z "$bench" ]; then
  echo "skipped: bitnet-bench (not built)"
else
  echo "== bitnet-bench --backend vulkan"
  "$bench" -m "$work/tiny.gguf" --backend vulkan -p 16 -n 4 -r 1 --json > "$work/bench.json" 2> "$work/bench.err" \
    || { cat "$work/bench.err"; fail "bitnet-bench --backend vulkan failed"; }
  python3 - "$work/bench.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
tests = {row["test"]: row for row in rows}
assert set(tests) == {"pp16", "tg4"}, sorted(tests)
for row in rows:
    assert row["backend"].startswith("vulkan "), row["backend"]
    assert row["tok_s_median"] > 0 and row["repetitions"] == 1, row
print("bench: " + ", ".join("%s %.1f tok/s" % (r["test"], r["tok_s_median"]) for r in rows) + " on " + rows[0]["backend"])
PY
  "$bench" -m "$work/tiny.gguf" --backend vulkan -p 16 -n 4 -r 1 > "$work/bench.txt" 2> /dev/null
  grep "^backend: vulkan " "$work/bench.txt" > /dev/null || fail "bitnet-bench table does not name the Vulkan backend"
fi
echo "vulkan cli test passed"
