#!/usr/bin/env bash
# Builds the Lua 5.4 module against the installed library and runs bindings/lua/test.lua: the
# greedy tokens of the C API, and failures (a bad model path) as nil, message, status.
source "$(dirname "$0")/common.sh"
mkdir "$work/lua"
cc -std=c99 -Wall -Wextra -Werror -O2 -shared -fPIC "$source/bindings/lua/bitnet.c" \
  $(pkg-config --cflags lua5.4) $(pkg-config --cflags --libs bitnet) -o "$work/lua/bitnet.so"
LUA_CPATH="$work/lua/?.so" lua5.4 "$source/bindings/lua/test.lua"
