# Sourced by the binding tests (test_*.sh BUILD_DIR SOURCE_DIR). Installs the built library into
# a temporary prefix, synthesizes a tiny model, and computes the reference greedy tokens with the
# C API (greedy_tokens.c), so each binding is tested as a user would get it: against an installed
# copy found through pkg-config. Exports what the binding tests read:
#   BITNET_TEST_MODEL, BITNET_TEST_PROMPT, BITNET_TEST_N      the model and the generation asked for
#   BITNET_TEST_PROMPT_TOKENS, BITNET_TEST_EXPECTED          the C API's answers (ids, space separated)
#   BITNET_LIBRARY, PKG_CONFIG_PATH, LD_LIBRARY_PATH          how to find the installed library
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-binding-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
pc=$(find "$prefix" -name bitnet.pc)
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH=$(dirname "$pc")
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export BITNET_LIBRARY=$libdir/libbitnet.so

# Seed 4 makes a tiny model whose greedy continuation varies, so a wrong token cannot hide in a
# run of equal ones.
export BITNET_TEST_MODEL=$work/model.gguf BITNET_TEST_PROMPT="Hello, world" BITNET_TEST_N=12
"$build/bin/bitnet" synth --preset tiny --format i2_s --seed 4 -o "$BITNET_TEST_MODEL" 2> /dev/null

cc -std=c99 -Wall -Wextra -Werror "$source/tests/bindings/greedy_tokens.c" $(pkg-config --cflags --libs bitnet) \
  -o "$work/greedy_tokens"
{ read -r BITNET_TEST_PROMPT_TOKENS; read -r BITNET_TEST_EXPECTED; } \
  < <("$work/greedy_tokens" "$BITNET_TEST_MODEL" "$BITNET_TEST_PROMPT" "$BITNET_TEST_N")
export BITNET_TEST_PROMPT_TOKENS BITNET_TEST_EXPECTED
echo "C API: prompt [$BITNET_TEST_PROMPT_TOKENS] -> greedy [$BITNET_TEST_EXPECTED]"
