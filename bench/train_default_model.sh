#!/usr/bin/env bash
# Retrains the default model models/fortunes-nano.gguf (see models/README.md): builds the corpus
# from the Debian `fortunes` and `fortunes-min` packages (apt-get install fortunes fortunes-min),
# then trains. About 20-40 minutes on 2 cores; not run by CI.
# usage: bench/train_default_model.sh BITNET_BINARY OUT_DIR
set -euo pipefail
bitnet=${1:-build/bin/bitnet}
out=${2:-build/default-model}
fortunes=/usr/share/games/fortunes
[ -f "$fortunes/fortunes" ] || { echo "install the corpus first: apt-get install fortunes fortunes-min"; exit 1; }
mkdir -p "$out"
# Every English fortune file except ascii-art (pictures, not text); the '%' separator lines become
# blank lines.
for f in $(ls "$fortunes" | grep -v '\.' | grep -v '^ascii-art$'); do cat "$fortunes/$f"; done |
  sed 's/^%$//' > "$out/fortunes.txt"
nice -n 10 "$bitnet" train --data "$out/fortunes.txt" --preset nano --vocab-size 2048 --ctx 128 --batch 16 \
  --steps 1800 --lr 0.006 --threads 1 --seed 1 --log-every 50 --val-every 200 \
  --checkpoint "$out/fortunes-nano.ckpt" --checkpoint-every 200 --json-log "$out/fortunes-nano.jsonl" \
  --name fortunes-nano -o "$out/fortunes-nano.gguf"
