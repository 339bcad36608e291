#!/usr/bin/env bash
# Records the logits of every synthetic model format, so a refactor can be checked for bit-identical
# output: run it with the old `bitnet` binary into one folder and the new one into another, then
# compare the folders (`cmp` per file, or tests/scripts/compare_logits.py for rel_rms where
# rounding may legitimately change).
#
#   tests/scripts/logits_snapshot.sh BITNET_BINARY OUT_DIR
#
# For each projection format (i2_s, tq2_0, tq1_0, f16, f32) and activation (relu2, silu) it
# synthesizes a small model and writes logits of a fixed token sequence with: the default
# settings, float activations (--no-act-quant), an F32 KV cache, each re-encoded lm_head type,
# each embedding type, and (where the binary has it) the Vulkan backend.
set -euo pipefail
bitnet=$1
out=$2
mkdir -p "$out"
tokens="1 17 42 200 5 99 250 7 100 3 64 128"
vulkan=0
if "$bitnet" --version 2>&1 | tail -1 | grep vulkan > /dev/null && vulkaninfo --summary > /dev/null 2>&1; then vulkan=1; fi
for format in i2_s tq2_0 tq1_0 f16 f32; do
  for activation in relu2 silu; do
    # The i2_s format is the official 2B-4T layout, whose activation is always ReLU².
    if [ "$format" = i2_s ] && [ "$activation" = silu ]; then continue; fi
    model="$out/small-$format-$activation.gguf"
    "$bitnet" synth --preset small --format "$format" --activation "$activation" --seed 7 -o "$model" 2> /dev/null
    run() { local name=$1; shift; "$bitnet" logits -m "$model" -t 2 --tokens "$tokens" -o "$out/$format-$activation-$name.f32" "$@" 2> /dev/null; }
    run default
    run floatact --no-act-quant
    run kvf32 --kv-type f32
    for head in f16 q8_0 q6_k q4_0; do run "head-$head" --head-type "$head"; done
    if [ "$vulkan" = 1 ]; then run vulkan --backend vulkan; run vulkan-floatact --backend vulkan --no-act-quant; fi
    rm -f "$model"
  done
  for embd in f32 q8_0 q6_k q4_0; do
    model="$out/small-$format-embd-$embd.gguf"
    "$bitnet" synth --preset small --format "$format" --embd-type "$embd" --seed 11 -o "$model" 2> /dev/null
    "$bitnet" logits -m "$model" -t 2 --tokens "$tokens" -o "$out/$format-embd-$embd.f32" 2> /dev/null
    rm -f "$model"
  done
done
ls "$out" | wc -l
