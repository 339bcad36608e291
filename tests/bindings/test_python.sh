#!/usr/bin/env bash
# Runs the Python binding's tests (python3, unittest) against the installed library found through
# BITNET_LIBRARY: the greedy tokens of the C API, and a bad model path raising BitnetError.
source "$(dirname "$0")/common.sh"
# Bytecode goes to the temporary folder, so the source tree stays clean.
PYTHONPYCACHEPREFIX="$work/pycache" python3 "$source/bindings/python/tests/test_bitnet.py"
