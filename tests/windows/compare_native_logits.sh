#!/usr/bin/env bash
# The Windows build (under Wine) and the native build compute the same logits: for synthetic small
# models of several projection formats, both `bitnet logits` write every position's logits in
# float-activation mode (--no-act-quant), and tests/scripts/compare_logits.py requires
# rel_rms <= 1e-5. The native binary also writes the models, so both read the very same file;
# bitnet.exe's own synth output must be byte-identical to it (the writer is portable too).
#
#   tests/windows/compare_native_logits.sh NATIVE_BITNET WINDOWS_BITNET_EXE WORK_DIR
# WINE (default wine64) runs the .exe; tests/armhf/run_armhf_engine.sh passes a qemu-arm wrapper
# there (and LABEL) to make the same comparison for the armhf build.
set -euo pipefail
native=$1
windows=$2
work=$3
wine=${WINE:-wine64}
label=${LABEL:-the Windows build under Wine}
tolerance=${TOLERANCE:-1e-5}  # rel_rms bound; the armhf script loosens it only across kernel variants
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work/native" "$work/windows"
tokens="1 17 42 200 5 99 250 7 100 3 64 128"
for case in "i2_s relu2" "tq2_0 relu2" "tq1_0 silu" "f16 silu"; do
  set -- $case
  format=$1 activation=$2
  name=$format-$activation
  "$native" synth --preset small --format "$format" --activation "$activation" --seed 7 -o "$work/$name.gguf" 2> /dev/null
  "$wine" "$windows" synth --preset small --format "$format" --activation "$activation" --seed 7 \
    -o "$work/$name-windows.gguf" 2> /dev/null
  if ! cmp -s "$work/$name.gguf" "$work/$name-windows.gguf"; then
    echo "FAIL: $label: its synth wrote a different $name model than the native bitnet" >&2
    exit 1
  fi
  "$native" logits -m "$work/$name.gguf" -t 2 --no-act-quant --tokens "$tokens" -o "$work/native/$name.f32" 2> /dev/null
  "$wine" "$windows" logits -m "$work/$name.gguf" -t 2 --no-act-quant --tokens "$tokens" \
    -o "$work/windows/$name.f32" 2> /dev/null
done
python3 "$here/../scripts/compare_logits.py" "$work/native" "$work/windows" --tolerance "$tolerance"
echo "logits: $label agrees with the native build (rel_rms <= $tolerance)"
