#!/usr/bin/env python3
"""Aggregate generation speed of `bitnet serve` under 1, 2, 4 and 8 concurrent clients.

Starts the server (--parallel = the largest client count), then for each client count runs that many
clients at once, each streaming R requests of N tokens (temperature 0, end-of-generation tokens
banned so every request makes exactly N), and reports the aggregate generated tokens per second and
the mean time to first token. Issue 16's target (bench/RESULTS.md): 8 clients >= 4x the aggregate
of 1 on the 2B-4T model.

usage: serve_bench.py BITNET MODEL [--clients 1,2,4,8] [--tokens 64] [--requests 2] [--threads 0]
"""
import argparse
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bitnet")
    parser.add_argument("model")
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--requests", type=int, default=2, help="requests per client")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--ctx", type=int, default=0, help="-c for the server (default: 256 tokens per slot)")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    slots = max(counts)
    ctx = args.ctx or 256 * slots
    server = subprocess.Popen([args.bitnet, "serve", "-m", args.model, "--port", "0", "--parallel", str(slots),
                               "-c", str(ctx), "-t", str(args.threads)], stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in server.stderr:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
            if "loaded as" in line:
                print(line.strip(), file=sys.stderr)
                break
        if port is None:
            sys.exit("the server did not start")
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # drain its log
        base = f"http://127.0.0.1:{port}"
        vocab = json.loads(urllib.request.urlopen(base + "/tokenize", data=json.dumps(
            {"content": "<|eot_id|><|end_of_text|>", "parse_special": True}).encode()).read())["tokens"]
        bias = {str(t): -100 for t in vocab if t >= 256}  # byte tokens are text, not end markers

        def one_request(client, results):
            body = json.dumps({"prompt": f"Client {client} asks about ternary weights.", "max_tokens": args.tokens,
                               "temperature": 0, "stream": True, "logit_bias": bias,
                               "stream_options": {"include_usage": True}}).encode()
            start = time.monotonic()
            first, tokens = None, 0
            request = urllib.request.Request(base + "/v1/completions", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=600) as response:
                for raw in response:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    if chunk.get("usage"):
                        tokens = chunk["usage"]["completion_tokens"]
                    elif first is None and chunk["choices"] and chunk["choices"][0]["text"]:
                        first = time.monotonic() - start
            results.append((tokens, first if first is not None else time.monotonic() - start))

        one_request(0, [])  # warm-up: page in the weights
        print(f"| clients | generated tokens | seconds | aggregate tok/s | mean TTFT ms | vs 1 client |")
        print(f"|---:|---:|---:|---:|---:|---:|")
        baseline = None
        for count in counts:
            results = []

            def client(index):
                for _ in range(args.requests):
                    one_request(index, results)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
            start = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.monotonic() - start
            tokens = sum(r[0] for r in results)
            rate = tokens / seconds
            baseline = baseline or rate
            ttft = 1000 * sum(r[1] for r in results) / len(results)
            print(f"| {count} | {tokens} | {seconds:.2f} | {rate:.1f} | {ttft:.0f} | {rate / baseline:.2f}x |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
