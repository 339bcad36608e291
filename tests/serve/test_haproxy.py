#!/usr/bin/env python3
"""Scale-out: three `bitnet serve` replicas behind HAProxy (least connections, /health checks) on
loopback. Clients send a stream of requests; one replica is killed mid-run. No request may fail
except those in flight on the killed replica when it died, every answer must equal `bitnet run`'s
text, and once the health check has noticed (fall 2 x inter 300 ms, plus margin) no request goes to
the dead replica. Exit 77 (ctest: skipped) when haproxy is not installed.
usage: test_haproxy.py BITNET"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

bitnet = sys.argv[1]
haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
if not haproxy:
    print("skipped: haproxy not installed")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="bitnet-haproxy-")
processes = []


def fail(message):
    print("FAIL:", message)
    for name in sorted(os.listdir(work)):
        if name.endswith(".log"):
            print(f"--- {name}")
            print(open(os.path.join(work, name), errors="replace").read()[-1500:])
    sys.exit(1)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout, what):
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if condition():
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {what}")


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


try:
    model = os.path.join(work, "tiny.gguf")
    subprocess.run([bitnet, "synth", "--preset", "tiny", "--format", "i2_s", "-o", model], check=True,
                   stderr=subprocess.DEVNULL)
    prompt, max_tokens = "hello world", 24
    run = subprocess.run([bitnet, "run", "-m", model, "-t", "1", "--temp", "0", "-n", str(max_tokens), "-p", prompt],
                         check=True, capture_output=True)
    expected = run.stdout.decode("utf-8", "replace")[len(prompt):-1]  # minus the echoed prompt and the newline

    replicas = {}  # alias -> (process, port)
    for name in ("r1", "r2", "r3"):
        log = open(os.path.join(work, f"{name}.log"), "w")
        process = subprocess.Popen([bitnet, "serve", "-m", model, "-t", "1", "--port", "0", "-c", "512",
                                    "--parallel", "2", "--alias", name], stderr=log)
        processes.append(process)
        port_holder = {}

        def listening(name=name, holder=port_holder):
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(os.path.join(work, f"{name}.log")).read())
            if found:
                holder["port"] = int(found.group(1))
            return bool(found)

        wait_for(listening, 60, f"replica {name} to listen")
        replicas[name] = (process, port_holder["port"])
    for name, (_, port) in replicas.items():
        wait_for(lambda port=port: healthy(port), 60, f"replica {name} to load")

    balancer_port = free_port()
    config = os.path.join(work, "haproxy.cfg")
    with open(config, "w") as out:
        out.write(f"""defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    retries 3
    option redispatch
frontend api
    bind 127.0.0.1:{balancer_port}
    default_backend replicas
backend replicas
    balance leastconn
    option httpchk GET /health
    http-check expect status 200
    default-server inter 300ms fall 2 rise 1
""")
        for name, (_, port) in replicas.items():
            out.write(f"    server {name} 127.0.0.1:{port} check\n")
    balancer_log = open(os.path.join(work, "haproxy.log"), "w")
    balancer = subprocess.Popen([haproxy, "-db", "-f", config], stdout=balancer_log, stderr=balancer_log)
    processes.append(balancer)
    wait_for(lambda: healthy(balancer_port), 30, "haproxy")

    results = []  # (start, end, replica or None, ok, detail)
    results_lock = threading.Lock()
    stop_sending = threading.Event()

    def client():
        body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0}).encode()
        while not stop_sending.is_set():
            start = time.monotonic()
            replica, ok, detail = None, False, ""
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{balancer_port}/v1/completions", data=body,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=120) as response:
                    answer = json.loads(response.read())
                replica = answer["model"]
                ok = answer["choices"][0]["text"] == expected
                detail = "" if ok else f"wrong text {answer['choices'][0]['text']!r}"
            except (OSError, urllib.error.URLError, ValueError, KeyError) as error:
                detail = repr(error)
            with results_lock:
                results.append((start, time.monotonic(), replica, ok, detail))

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    wait_for(lambda: len(results) >= 40, 120, "40 requests before the kill")
    killed_at = time.monotonic()
    replicas["r1"][0].kill()  # SIGKILL: no drain, requests in flight on it are lost
    replicas["r1"][0].wait()  # it may still accept a request between the signal and its death
    dead_at = time.monotonic()
    detection = 2 * 0.3 + 1.5  # fall x inter, plus margin for a loaded machine
    time.sleep(detection + 1.0)
    count_at_end = len(results)
    wait_for(lambda: len(results) >= count_at_end + 40, 120, "40 requests after the kill")
    stop_sending.set()
    for thread in clients:
        thread.join()

    before = [r for r in results if r[1] < killed_at]
    used_before = {r[2] for r in before if r[3]}
    print(f"{len(results)} requests; before the kill replicas {sorted(used_before)} answered")
    if len(used_before) < 2:
        fail(f"least-connections balancing used only {used_before}")
    failures = [r for r in results if not r[3]]
    for start, end, replica, ok, detail in failures:
        in_flight = start <= dead_at and end >= killed_at
        print(f"failed: {detail} (started {start - killed_at:+.3f} s from the kill, in flight: {in_flight})")
        if not in_flight or replica not in (None, "r1"):
            fail("a request failed that was not in flight on the killed replica")
    late = [r for r in results if r[0] > killed_at + detection]
    if any(r[2] == "r1" for r in late):
        fail("a request went to the killed replica after the health checks")
    if not late or not all(r[3] for r in late):
        fail("requests after the health check interval did not all succeed")
    print(f"{len(failures)} in-flight requests failed; {len(late)} later requests all went to live replicas")
    print("haproxy scale-out test passed")
finally:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(work, ignore_errors=True)
