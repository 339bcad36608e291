#!/usr/bin/env bash
# `bitnet train` from the command line: a micro training of a few seconds on text in the tree
# (loss decreases, JSON log, checkpoint, the exported model runs), refusal of a checkpoint of
# another shape and of a corrupt one (nothing overwritten), and the default model under models/.
set -euo pipefail
bitnet=$1
source_dir=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-train-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- micro training --------------------------------------------------------------------------------
text="$source_dir/docs/architecture.md"
"$bitnet" train --data "$text" --preset nano --vocab-size 400 --ctx 32 --batch 8 --steps 60 --lr 0.01 \
  --log-every 5 --val-every 30 --json-log "$work/log.jsonl" --checkpoint "$work/run.ckpt" --plot "$work/loss.svg" --quiet \
  -o "$work/micro.gguf" 2> "$work/train.err" || fail "micro training failed: $(cat "$work/train.err")"
[ -s "$work/micro.gguf" ] || fail "no model written"
[ -s "$work/run.ckpt" ] || fail "no checkpoint written"
grep -q "<polyline" "$work/loss.svg" || fail "no loss curve in the SVG plot"
[ "$(wc -l < "$work/log.jsonl")" -eq 12 ] || fail "expected 12 JSON log lines, got $(wc -l < "$work/log.jsonl")"
grep -q '"val_loss"' "$work/log.jsonl" || fail "no validation loss in the JSON log"
# Mean loss of the first three logged steps against the last three.
read -r first last < <(sed -E 's/.*"loss":([0-9.]+).*/\1/' "$work/log.jsonl" |
  awk '{ l[NR] = $1 } END { printf "%f %f\n", (l[1] + l[2] + l[3]) / 3, (l[NR] + l[NR-1] + l[NR-2]) / 3 }')
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.5) }' || fail "loss did not decrease: $first -> $last"
echo "micro training: loss $first -> $last"
grep -q "unigram baseline" "$work/train.err" || fail "no final validation report"
"$bitnet" run -m "$work/micro.gguf" -p "Every" -n 8 --temp 0 > "$work/run.out" 2> "$work/run.err" ||
  fail "the trained model does not run: $(cat "$work/run.err")"

# --- bad checkpoints: a clear error, nothing overwritten ----------------------------------------
cp "$work/run.ckpt" "$work/saved.ckpt"
if "$bitnet" train --data "$text" --preset micro --resume "$work/run.ckpt" -o "$work/other.gguf" 2> "$work/shape.err"; then
  fail "resuming a nano checkpoint as micro succeeded"
fi
grep -q "is a 'nano' model, not 'micro'" "$work/shape.err" || fail "unclear shape error: $(cat "$work/shape.err")"
cmp -s "$work/run.ckpt" "$work/saved.ckpt" || fail "the checkpoint changed"
[ ! -e "$work/other.gguf" ] || fail "an output was written"

printf 'garbage' | dd of="$work/run.ckpt" bs=1 seek=200 conv=notrunc 2> /dev/null
cp "$work/run.ckpt" "$work/corrupt.ckpt"
if "$bitnet" train --data "$text" --resume "$work/run.ckpt" -o "$work/other.gguf" 2> "$work/corrupt.err"; then
  fail "resuming a corrupt checkpoint succeeded"
fi
grep -q "checksum" "$work/corrupt.err" || fail "unclear corruption error: $(cat "$work/corrupt.err")"
cmp -s "$work/run.ckpt" "$work/corrupt.ckpt" || fail "the corrupt checkpoint was overwritten"
[ ! -e "$work/other.gguf" ] || fail "an output was written"
head -c 100 "$work/saved.ckpt" > "$work/short.ckpt"
"$bitnet" train --data "$text" --resume "$work/short.ckpt" -o "$work/other.gguf" 2> "$work/short.err" && fail "a truncated checkpoint was accepted"
grep -q "truncated" "$work/short.err" || fail "unclear truncation error: $(cat "$work/short.err")"

# --- the default model in the tree ----------------------------------------------------------------
model="$source_dir/models/fortunes-nano.gguf"
[ -f "$model" ] || fail "missing $model"
size=$(stat -c %s "$model")
[ "$size" -le $((8 * 1024 * 1024)) ] || fail "the default model is $size bytes (at most 8 MB)"
"$bitnet" run -m "$model" -p "The" -n 24 --temp 0 > "$work/default.out" 2> "$work/default.err" ||
  fail "the default model does not run: $(cat "$work/default.err")"
[ "$(wc -w < "$work/default.out")" -ge 5 ] || fail "the default model wrote too little: $(cat "$work/default.out")"
echo "default model: $(head -c 200 "$work/default.out")"
echo "ok"
