#!/usr/bin/env python3
"""Compares two folders of float32 logits written by logits_snapshot.sh.

    compare_logits.py BEFORE_DIR AFTER_DIR [--tolerance REL_RMS]

Prints, per file, "identical" or the rel_rms difference (sqrt(mean((a-b)^2)) / sqrt(mean(a^2)));
exits 1 if a file is missing, differs in size, or exceeds the tolerance (default 0: bit-identical).
"""
import argparse
import math
import os
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return struct.unpack("<%df" % (len(data) // 4), data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--tolerance", type=float, default=0.0)
    args = parser.parse_args()
    failures = 0
    names = sorted(n for n in os.listdir(args.before) if n.endswith(".f32"))
    if not names:
        print("no .f32 files in", args.before)
        return 1
    for name in names:
        after_path = os.path.join(args.after, name)
        if not os.path.exists(after_path):
            print(f"{name}: missing in {args.after}")
            failures += 1
            continue
        a, b = read(os.path.join(args.before, name)), read(after_path)
        if len(a) != len(b):
            print(f"{name}: {len(a)} vs {len(b)} values")
            failures += 1
            continue
        if a == b:
            print(f"{name}: identical")
            continue
        diff = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))
        norm = math.sqrt(sum(x * x for x in a) / len(a))
        rel = diff / norm if norm else float("inf")
        verdict = "ok" if rel <= args.tolerance else "FAIL"
        print(f"{name}: rel_rms {rel:.3g} {verdict}")
        failures += rel > args.tolerance
    print(f"{len(names) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
