#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Renders every docs/diagrams/*.dot to .svg with Graphviz's dot, stamping the SVG with the
# FNV-1a 64 hash of its source (`<!-- source-fnv1a64: ... -->`), which tunsim's
# diagrams test checks: a source changed without its SVG fails the test. Then draws every
# docs/diagrams/*.tun scenario as a sequence chart with `tunsim run --diagram` (the test
# redraws it and compares). `make diagrams`.
set -euo pipefail
cd "$(dirname "$0")"
command -v dot >/dev/null || { echo "render.sh: needs Graphviz (apt-get install graphviz)" >&2; exit 2; }
for src in *.dot; do
	svg=${src%.dot}.svg
	hash=$(python3 -c 'import sys
h=0xcbf29ce484222325
for b in open(sys.argv[1],"rb").read():
    h=((h^b)*0x100000001b3)&0xffffffffffffffff
print("%016x"%h)' "$src")
	dot -Tsvg "$src" | sed "2i <!-- source-fnv1a64: $hash -->" > "$svg"
	echo "$svg"
done
for src in *.tun; do
	svg=${src%.tun}.svg
	${CARGO:-cargo} run -q -p tunsim -- run --diagram "$svg" "$src" > /dev/null
	echo "$svg"
done
