#!/usr/bin/env bash
# The official OpenAI client library (npm package `openai`, pinned by openai_client/package-lock.json
# and installed by .ci/install-deps.sh with `npm ci` from the npm registry) against `bitnet serve`
# on loopback: its answers must equal what `bitnet run` generates for the same prompt at
# temperature 0. Exit 77 (ctest: skipped) when node or the installed package is missing.
set -euo pipefail
bitnet=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-openai-XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/server.log" ] && tail -20 "$work/server.log"; exit 1; }

command -v node > /dev/null || { echo "skipped: node not installed"; exit 77; }
# The package is installed before the tests (.ci/install-deps.sh runs `npm ci` in openai_client/):
# tests use no network beyond loopback.
if [ ! -d "$here/openai_client/node_modules/openai" ]; then
  echo "skipped: the openai package is not installed (run: cd tests/serve/openai_client && npm ci)"
  exit 77
fi

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> /dev/null
run() { "$bitnet" run -m "$work/tiny.gguf" -t 1 --temp 0 "$@" 2> /dev/null; }
# The reference texts. The chat prompt is the bitnet template written out (include/bitnet.h,
# bitnet_chat_apply_template), tokenized with its special tokens; run prints the text and a newline.
chat_prompt='<|begin_of_text|>System: Be brief.<|eot_id|>User: What is BitNet?<|eot_id|>Assistant: '
chat_ids=$("$bitnet" tokenize -m "$work/tiny.gguf" --ids-only --no-special --parse-special -- "$chat_prompt")
run --tokens "$chat_ids" -n 20 | head -c -1 > "$work/expected_chat.txt"
run -p "hello world" -n 16 | head -c -1 | tail -c +12 > "$work/expected_completion.txt"  # minus the echoed prompt
[ -s "$work/expected_chat.txt" ] || fail "bitnet run generated nothing for the chat"

"$bitnet" serve -m "$work/tiny.gguf" -t 1 --port 0 -c 512 --parallel 2 --alias tiny --api-key secret-key \
  2> "$work/server.log" &
server_pid=$!
for _ in $(seq 600); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/server.log")
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
  sleep 0.1
done
[ -n "${port:-}" ] || fail "the server did not start"

(cd "$work" && node "$here/openai_client/openai_client_test.mjs" "$port" secret-key expected_chat.txt expected_completion.txt) ||
  fail "the openai client test failed"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not exit 0 on SIGTERM"
server_pid=
echo "openai client test passed"
