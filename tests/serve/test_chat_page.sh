#!/usr/bin/env bash
# The chat page at / in a real browser: headless Chromium loads it with ?message=..., the page sends
# the message and streams the reply into the DOM; the reply read back from the DOM must equal what
# `bitnet run` generates for the same chat at temperature 0. A screenshot is kept as an artifact.
# Exit 77 (ctest: skipped) when chromium is not installed.
# usage: test_chat_page.sh BITNET ARTIFACT_DIR
set -euo pipefail
bitnet=$1 artifacts=$2
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "skipped: chromium not installed"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bitnet-chat-page-XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/server.log" ] && tail -20 "$work/server.log"; exit 1; }

"$bitnet" synth --preset tiny --format i2_s -o "$work/tiny.gguf" 2> /dev/null
# The reference: the bitnet chat template written out (include/bitnet.h), greedy, 16 tokens.
ids=$("$bitnet" tokenize -m "$work/tiny.gguf" --ids-only --no-special --parse-special -- \
  '<|begin_of_text|>User: hello there<|eot_id|>Assistant: ')
"$bitnet" run -m "$work/tiny.gguf" -t 1 --temp 0 -n 16 --tokens "$ids" 2> /dev/null | head -c -1 > "$work/expected.txt"
[ -s "$work/expected.txt" ] || fail "bitnet run generated nothing"

"$bitnet" serve -m "$work/tiny.gguf" -t 1 --port 0 -c 512 --parallel 2 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 600); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/server.log")
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
  sleep 0.1
done
[ -n "${port:-}" ] || fail "the server did not start"

url="http://127.0.0.1:$port/?message=hello%20there&temperature=0&max_tokens=16"
browse() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$work/profile" --virtual-time-budget=30000 "$@" "$url" 2> "$work/browser.log"
}
browse --dump-dom > "$work/dom.html" || fail "chromium failed: $(tail -5 "$work/browser.log")"
python3 - "$work/dom.html" "$work/expected.txt" <<'PY' || fail "the page did not show the reply"
import sys
from html.parser import HTMLParser

class Reply(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.text, self.finish = 0, "", None
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth: self.depth += 1
        elif attrs.get("id") == "reply-1": self.depth, self.finish = 1, attrs.get("data-finish")
    def handle_endtag(self, tag):
        if self.depth: self.depth -= 1
    def handle_data(self, data):
        if self.depth: self.text += data

page = Reply()
page.feed(open(sys.argv[1], encoding="utf-8").read())
expected = open(sys.argv[2], encoding="utf-8", errors="replace").read()
print(f"reply in the DOM: {len(page.text)} characters, finish {page.finish}")
if page.finish not in ("stop", "length"): sys.exit(f"the reply did not finish (data-finish={page.finish})")
if page.text != expected: sys.exit(f"reply {page.text!r} != expected {expected!r}")
PY
mkdir -p "$artifacts"
browse --screenshot="$artifacts/chat_page.png" --window-size=900,700 > /dev/null || fail "no screenshot"
[ -s "$artifacts/chat_page.png" ] || fail "the screenshot is empty"
echo "screenshot: $artifacts/chat_page.png"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not exit 0 on SIGTERM"
server_pid=
echo "chat page test passed"
