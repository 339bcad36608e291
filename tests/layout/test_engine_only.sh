#!/usr/bin/env bash
# libbitnet holds the engine only: the tooling that writes files (the GGUF writer and the
# synthetic-model generator, tools/) must not be compiled into libbitnet.a or libbitnet.so.
# Checks every symbol, hidden ones included (nm without -D), so nothing slips in unexported.
# usage: test_engine_only.sh LIBRARY...
set -euo pipefail
[ $# -gt 0 ] || { echo "FAIL: no libraries to check"; exit 1; }
# Demangled names of tools/ code: namespace bitnet::synth..., the writer class, the synth entry points.
tool_symbols='synth|gguf::Writer|GgufWriter|gguf_writer'
failed=0
for library in "$@"; do
  [ -f "$library" ] || { echo "FAIL: $library does not exist"; failed=1; continue; }
  symbols=$(nm -C "$library" 2> /dev/null || true)
  [ -n "$symbols" ] || { echo "FAIL: nm found no symbols in $library (stripped?)"; failed=1; continue; }
  found=$(grep -Ei "$tool_symbols" <<< "$symbols" || true)
  if [ -n "$found" ]; then
    echo "FAIL: $library contains tooling symbols:"
    head -20 <<< "$found"
    failed=1
  else
    echo "ok: $library: $(wc -l <<< "$symbols") symbols, none from tools/"
  fi
done
exit "$failed"
