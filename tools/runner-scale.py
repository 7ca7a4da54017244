#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""How the scenario runner's time and memory grow with its input (issue 11 section 6,
docs/performance.md): `tunsim run -` on scenarios from tools/gen-scenario.py, each run
RUNS times; prints wall time and peak memory (max RSS), their medians, and the ratio of
each size to the previous one.

  runner-scale.py [--tunsim PATH] [--runs N] [--jobs 1000,2000,4000,8000,10000]
                  [--bytes 10M,100M,1G]

The scenario is generated on the fly and piped in, so a 1 GB scenario needs no disk.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen-scenario.py")


def run_once(tunsim, kind, arg):
    gen = subprocess.Popen([sys.executable, GEN, kind, arg], stdout=subprocess.PIPE)
    t0 = time.monotonic()
    sim = subprocess.Popen([tunsim, "run", "-"], stdin=gen.stdout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gen.stdout.close()
    out_bytes = 0
    last = b""
    while True:
        chunk = sim.stdout.read(1 << 20)
        if not chunk:
            break
        out_bytes += len(chunk)
        last = (last + chunk)[-4096:]
    _, status, ru = os.wait4(sim.pid, 0)
    wall = time.monotonic() - t0
    gen.wait()
    err = sim.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"runner-scale: tunsim exited {code} on {kind} {arg}: {err.strip()}")
    tail = last.decode(errors="replace").strip().splitlines()[-1]
    if not tail.startswith("end: mbufs live=0"):
        sys.exit(f"runner-scale: unexpected end of transcript on {kind} {arg}: {tail!r}")
    return wall, ru.ru_maxrss, out_bytes


def series(tunsim, kind, args, runs, label):
    prev = None
    for a in args:
        res = [run_once(tunsim, kind, a) for _ in range(runs)]
        walls = sorted(r[0] for r in res)
        rss = statistics.median(r[1] for r in res) / 1024
        med = statistics.median(walls)
        ratio = f"{med / prev:5.2f}x" if prev else "   - "
        print(f"  {label} {a:>6}: wall {med:7.2f} s (min {walls[0]:.2f}, max {walls[-1]:.2f})"
              f"  vs previous {ratio}   max RSS {rss:7.1f} MiB   transcript {res[0][2] / 1e6:9.1f} MB",
              flush=True)
        prev = med


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tunsim", default=os.path.join(HERE, "..", "target", "release", "tunsim"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", default="1000,2000,4000,8000,10000")
    ap.add_argument("--bytes", default="10M,100M,1G")
    a = ap.parse_args()
    if a.runs < 1:
        sys.exit("runner-scale: --runs must be at least 1")
    if not os.access(a.tunsim, os.X_OK):
        sys.exit(f"runner-scale: {a.tunsim}: not an executable (cargo build --release -p tunsim)")
    jobs = [j for j in a.jobs.split(",") if j]
    sizes = [b for b in a.bytes.split(",") if b]
    print(f"runner scaling: median of {a.runs} runs each, tunsim run - on generated scenarios")
    if jobs:
        print(" blocked reads (N reads asleep, 3 outputs waking them all, interrupt, show):")
        series(a.tunsim, "blocked", jobs, a.runs, "N =")
    if sizes:
        print(" scenario size (rounds of if_output, FIONREAD, read, write):")
        series(a.tunsim, "bytes", sizes, 1 if a.runs > 1 else a.runs, "size")


if __name__ == "__main__":
    main()
