#!/usr/bin/env python3
"""Time `raif check` against the official Python evaluation on the same input, interleaved.

Usage: bench_check.py INPUT OFFICIAL_PY ORACLE [--rounds R] [--runs N] NAME=CMD...

Each CMD is a command line in which {in} and {out} stand for the input and a fresh output
file. Every round runs the official evaluation once (ORACLE with OFFICIAL_PY, stdout to a
file), then each CMD N times, the CMDs alternating, so that all of them see the same state of a
noisy machine. Every run is a new process, timed from spawn to exit with wall-clock time, and
writes to a file that did not exist before (truncating one costs a filesystem discard here).

Prints min and median wall-clock per command and the speed-ups against the official run:
median / median, and best / best. Checks first that every CMD's verdicts (strict and loose per
instruction) equal the official ones, except where the official code replaced a given kwarg by
a random value (the oracle lists these in kwargs_overridden).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(argv, stdout=subprocess.DEVNULL):
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def verdicts(path):
    with open(path, encoding="utf-8") as f:
        return [(d.get("strict"), d.get("loose")) for d in map(json.loads, f)]


def overridden(path):
    with open(path, encoding="utf-8") as f:
        return {
            i
            for i, d in enumerate(map(json.loads, f))
            if any(x.get("kwargs_overridden") for x in d.get("instructions", []))
        }


def main():
    args = sys.argv[1:]
    rounds, runs = 3, 10
    for flag in ("--rounds", "--runs"):
        if flag in args:
            k = args.index(flag)
            if flag == "--rounds":
                rounds = int(args[k + 1])
            else:
                runs = int(args[k + 1])
            del args[k : k + 2]
    inp, py, oracle = args[:3]
    cmds = [a.split("=", 1) for a in args[3:]]
    tmp = tempfile.mkdtemp(prefix="raif-bench-")
    count = [0]

    def fresh():
        count[0] += 1
        return os.path.join(tmp, f"out{count[0]}.jsonl")

    def official():
        out = fresh()
        with open(out, "w") as f:
            t = run([py, oracle, inp], stdout=f)
        return t, out

    # agreement first (this also warms the page cache for both)
    _, ref = official()
    skip = overridden(ref)
    want = verdicts(ref)
    for name, cmd in cmds:
        out = fresh()
        run(cmd.format(**{"in": inp, "out": out}).split())
        got = verdicts(out)
        bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b and i not in skip]
        if len(got) != len(want) or bad:
            sys.exit(f"{name}: verdicts differ from the official ones on lines {bad[:10]}")
    times = {"official": []}
    times.update({name: [] for name, _ in cmds})
    for _ in range(rounds):
        times["official"].append(official()[0])
        for _ in range(runs):
            for name, cmd in cmds:
                out = fresh()
                times[name].append(run(cmd.format(**{"in": inp, "out": out}).split()))
                os.unlink(out)
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    off = times["official"]
    n = sum(1 for _ in open(inp, encoding="utf-8"))
    print(f"{os.path.basename(inp)}: {n} lines; verdicts equal the official ones "
          f"({len(skip)} line(s) with an overridden kwarg left out)")
    print(f"  official      min {min(off):8.3f} s    median {statistics.median(off):8.3f} s    ({len(off)} runs)")
    for name, _ in cmds:
        t = times[name]
        print(
            f"  {name:<12}  min {min(t) * 1e3:8.2f} ms   median {statistics.median(t) * 1e3:8.2f} ms"
            f"   speed-up {statistics.median(off) / statistics.median(t):5.0f}x (medians)"
            f"  {min(off) / min(t):5.0f}x (best)   ({len(t)} runs)"
        )


if __name__ == "__main__":
    main()
