#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Differential check of tunsim against the reference oracle on random scenarios.
# A development tool, not a test: it needs the oracle beside the project
# (../shared/oracle/run-scenario) and python3.
#
#   tools/oracle-diff/run.sh [FIRST_SEED [COUNT]]
#
# Each seed makes a random scenario (gen.py). A transcript pair is "identical", or
# "explained" when the oracle reports a C defect (defect:/leak: lines) and every differing
# line is such a line or mbuf accounting (docs/deviations.md D1–D5), or a MISMATCH (kept
# in $OUT for inspection; exit status 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
oracle=${ORACLE:-$root/../shared/oracle/run-scenario}
first=${1:-1}; count=${2:-200}
OUT=${OUT:-$(mktemp -d)}
cargo build -q -p tunsim --manifest-path "$root/Cargo.toml"
tunsim=$root/target/debug/tunsim
ok=0; explained=0; bad=0
for ((i = first; i < first + count; i++)); do
  python3 "$here/gen.py" "$i" > "$OUT/s$i.tun"
  "$oracle" "$OUT/s$i.tun" > "$OUT/o$i.out" 2>&1
  "$tunsim" run "$OUT/s$i.tun" > "$OUT/r$i.out" 2>&1
  if cmp -s "$OUT/o$i.out" "$OUT/r$i.out"; then
    ok=$((ok + 1)); rm -f "$OUT/s$i.tun" "$OUT/o$i.out" "$OUT/r$i.out"; continue
  fi
  other=$(diff "$OUT/o$i.out" "$OUT/r$i.out" | grep '^[<>]' \
    | grep -v -e 'leak:' -e 'defect:' -e 'end: mbufs live=' -e '= live=' || true)
  if grep -q -e 'defect:' -e 'leak:' "$OUT/o$i.out" && [ -z "$other" ]; then
    explained=$((explained + 1))
  else
    bad=$((bad + 1)); echo "MISMATCH seed $i: $OUT/s$i.tun"
  fi
done
echo "identical=$ok explained-by-deviation=$explained mismatch=$bad (files in $OUT)"
[ "$bad" -eq 0 ]
