# SPDX-License-Identifier: BSD-2-Clause
"""Compares tunsim with the reference oracle on scenario files (tools/fuzz-diff/run.sh).

    python3 compare.py --oracle RUN-SCENARIO --tunsim TUNSIM --out DIR [--jobs N] FILE...

Each scenario is run by both. Identical transcripts count as *identical*. Otherwise the
transcripts are cut into command blocks (an echo line `> ...` and what follows it); the
first block that differs is examined:

* if the oracle's block reports a C defect that docs/deviations.md fixes — D1 (`tunwrite`
  frees `m`, not `top`: `leak:` / double-free / freed-chain lines on a `write`), D3 (AF_UNSPEC
  output reading a 4-byte family from a shorter first mbuf: the pre-check `defect:` line, a
  negative `m_len`, an out-of-bounds `uiomove`), D4 (LMODE prepend of `sa_len` > 56: bytes
  written past the end on an `if_output`) — that command line is dropped from the scenario
  and both are run again;
* anything else is a *mismatch*.

A scenario that becomes identical after dropping one or more such lines counts as
*explained* (by the deviations named). Mismatches keep their files in --out: the scenario,
both transcripts and a diff. Prints per-scenario MISMATCH lines and the totals; exits 1 if
any mismatch.
"""

import argparse
import concurrent.futures as cf
import difflib
import os
import re
import subprocess
import sys
from collections import Counter

TIMEOUT = 60


def run(cmd):
    """Runs a runner on scenario text (through a temporary file) and returns its output."""
    p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT,
                       text=True, errors="replace")
    return p.stdout + p.stderr


def blocks(transcript):
    """Splits a transcript into blocks: leading comment lines, then one block per command
    (echo line first), then the end: lines."""
    out, cur = [], []
    for line in transcript.splitlines():
        if line.startswith("> ") or line == ">" or (line.startswith("end:") and
                                                    (not cur or not cur[0].startswith("end:"))):
            out.append(cur)
            cur = []
        cur.append(line)
    out.append(cur)
    return out


def reason(block):
    """The documented deviation that explains an oracle block, or None."""
    cmd = block[0] if block else ""
    text = "\n".join(block[1:])
    if cmd.startswith("> if_output"):
        if re.search(r"defect: tunoutput reads a 4-byte address family|negative m_len|"
                     r"uiomove of \d+ byte\(s\) runs outside", text):
            return "D3"
        if re.search(r"defect: mbuf #\d+ was written \d+ byte\(s\) past the end", text):
            return "D4"
    if cmd.startswith("> write"):
        if re.search(r"leak: |defect: m_free of already-freed|defect: chain contains freed",
                     text):
            return "D1"
    return None


def command_lines(scenario):
    """Indices (into the scenario's lines) of its command lines, in order."""
    idx = []
    for i, l in enumerate(scenario.splitlines()):
        t = l.strip()
        if t and not t.startswith("#"):
            idx.append(i)
    return idx


def compare_one(path, oracle, tunsim, workdir, max_drops=64):
    """Returns (verdict, reasons, detail) for one scenario file."""
    scenario = open(path, encoding="utf-8", errors="replace").read()
    reasons = []
    base = os.path.basename(path)
    tmp = os.path.join(workdir, base + ".cur.tun")
    cur = scenario
    for _ in range(max_drops + 1):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(cur)
        o = run([oracle, tmp])
        r = run([tunsim, "run", tmp])
        if o == r:
            os.unlink(tmp)
            return ("identical" if not reasons else "explained", reasons, "")
        ob, rb = blocks(o), blocks(r)
        first = next((i for i in range(max(len(ob), len(rb)))
                      if i >= len(ob) or i >= len(rb) or ob[i] != rb[i]), None)
        why = reason(ob[first]) if first is not None and first < len(ob) else None
        # Block 0 is what precedes the first command; block k is command k.
        cmds = command_lines(cur)
        if why is None or first == 0 or first - 1 >= len(cmds):
            stem = os.path.join(workdir, base)
            with open(stem + ".mismatch.tun", "w", encoding="utf-8") as f:
                f.write(cur)
            with open(stem + ".oracle.out", "w", encoding="utf-8") as f:
                f.write(o)
            with open(stem + ".tunsim.out", "w", encoding="utf-8") as f:
                f.write(r)
            d = "".join(difflib.unified_diff(o.splitlines(True), r.splitlines(True),
                                             "oracle", "tunsim", n=2))
            with open(stem + ".diff", "w", encoding="utf-8") as f:
                f.write(d)
            os.unlink(tmp)
            blk = ob[first][0] if first is not None and first < len(ob) and ob[first] else "?"
            return ("mismatch", reasons, f"first differing block: {blk}")
        reasons.append(why)
        lines = cur.splitlines(True)
        del lines[cmds[first - 1]]
        cur = "".join(lines)
    os.unlink(tmp)
    return ("mismatch", reasons, "too many explained differences")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--tunsim", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    counts, why = Counter(), Counter()
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        futs = {ex.submit(compare_one, f, a.oracle, a.tunsim, a.out): f for f in a.files}
        for fut in cf.as_completed(futs):
            f = futs[fut]
            try:
                verdict, reasons, detail = fut.result()
            except subprocess.TimeoutExpired:
                verdict, reasons, detail = "mismatch", [], "timeout"
            counts[verdict] += 1
            if verdict == "explained":
                why.update(set(reasons))
            if verdict == "mismatch":
                print(f"MISMATCH {f}: {detail} (files in {a.out})")
    total = sum(counts.values())
    by = ", ".join(f"{k}={v}" for k, v in sorted(why.items())) or "none"
    print(f"compared={total} identical={counts['identical']} "
          f"explained-by-deviation={counts['explained']} ({by}) "
          f"mismatch={counts['mismatch']} (files in {a.out})")
    return 1 if counts["mismatch"] else 0


if __name__ == "__main__":
    sys.exit(main())
