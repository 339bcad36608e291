#!/usr/bin/env bash
# The examples and the `bitnet` subcommands that use a model must compile against bitnet.h alone,
# as a user's program does. The CMake targets already give them only include/ (tools/CMakeLists.txt,
# examples/CMakeLists.txt); this test compiles each file again with nothing but -I include, so an
# engine header creeping in fails here even if someone widens a target's include path.
# usage: test_public_api_only.sh C_COMPILER CXX_COMPILER SOURCE_DIR FILE...
set -euo pipefail
c_compiler=$1 cxx_compiler=$2 source_dir=$3
shift 3
[ $# -gt 0 ] || { echo "FAIL: no files to check"; exit 1; }
failed=0
for file in "$@"; do
  case "$file" in
    *.c) compile=("$c_compiler" -std=c99 -Wall -Wextra -Werror) ;;
    *) compile=("$cxx_compiler" -std=c++20) ;;
  esac
  # A file's own folder is searched for "..." includes anyway: the CLI's helpers live there.
  if ! "${compile[@]}" -fsyntax-only -I"$source_dir/include" "$file"; then
    echo "FAIL: $file does not compile with only -I include"
    failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "ok: $# files compile with only -I include"
exit "$failed"
