#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes big scenarios to standard output, for measuring how the runner scales
(docs/performance.md, issue 11 section 6).

  gen-scenario.py blocked N      N blocked reads, 3 outputs that wake them all, an
                                 interrupt, a wait and a show (the runner_scaling test's shape)
  gen-scenario.py bytes SIZE     a scenario of about SIZE bytes (suffix K, M or G): tun0
                                 opened and addressed, then rounds of if_output + read,
                                 write, ioctl FIONREAD and a comment, until SIZE is reached

Pipe it into `tunsim run -`: nothing is kept on disk, and tunsim streams its transcript.
"""
import sys


def blocked(n, out):
    out.write("open tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\n")
    out.write("read tun0 2000\n" * n)
    out.write("if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 cafe\n" * 3)
    out.write(f"interrupt {n // 2}\nwait 1\nshow tun0\n")


ROUND = (
    "# round {i}\n"
    "if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 pat:100\n"
    "ioctl tun0 FIONREAD\n"
    "read tun0 2000\n"
    "write tun0 ip4:10.0.0.2>10.0.0.1 pat:64\n"
)


def sized(size, out):
    head = "open tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\nifioctl tun0 SIOCSIFDSTADDR 10.0.0.2\n"
    out.write(head)
    written = len(head)
    i = 0
    chunk = []
    while written < size:
        r = ROUND.format(i=i)
        chunk.append(r)
        written += len(r)
        i += 1
        if len(chunk) == 4096:
            out.write("".join(chunk))
            chunk = []
    out.write("".join(chunk))
    out.write("show tun0\nclose tun0\n")


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s and s[-1].upper() in mult:
        return int(s[:-1]) * mult[s[-1].upper()]
    return int(s)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("blocked", "bytes"):
        sys.exit(__doc__)
    try:
        if sys.argv[1] == "blocked":
            blocked(int(sys.argv[2]), sys.stdout)
        else:
            sized(parse_size(sys.argv[2]), sys.stdout)
    except ValueError:
        sys.exit(f"gen-scenario.py: not a number: {sys.argv[2]!r}")
    except BrokenPipeError:
        pass


if __name__ == "__main__":
    main()
