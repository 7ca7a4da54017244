#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Differential fuzzing against the C: the fuzzer's inputs, as scenarios, run on tunsim and
# on the reference oracle, transcripts compared. A development tool, not a test: it needs
# the oracle beside the project (../shared/oracle/run-scenario) and python3.
#
#   tools/fuzz-diff/run.sh [INPUT_OR_DIR...]     (default: fuzz/corpus/tun_ops fuzz/seeds)
#
# Each input is decoded by tunsim::fuzzops (as the fuzz target decodes it); the operations
# the scenario language can express become a scenario (the `fuzz_scenario` example;
# identical scenarios are run once, inputs with nothing expressible are skipped). Then
# compare.py runs both and counts: identical; explained (identical once the command lines
# whose C behaviour is a defect fixed in docs/deviations.md — D1, D3, D4 — are dropped one
# by one); mismatch (scenario, transcripts and diff kept in $OUT; exit status 1).
# JOBS (default 2) scenarios run at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
oracle=${ORACLE:-$root/../shared/oracle/run-scenario}
OUT=${OUT:-$(mktemp -d)}
if [ "$#" -eq 0 ]; then
  set -- "$root/fuzz/corpus/tun_ops" "$root/fuzz/seeds"
fi
inputs=()
for a in "$@"; do [ -e "$a" ] && inputs+=("$a"); done
[ "${#inputs[@]}" -gt 0 ] || { echo "fuzz-diff: no inputs (run make fuzz first)"; exit 2; }
cargo build -q -p tunsim --bins --example fuzz_scenario --manifest-path "$root/Cargo.toml"
"$root/target/debug/examples/fuzz_scenario" "$OUT/scenarios" "${inputs[@]}"
"$oracle" /dev/null >/dev/null 2>&1 || true   # the oracle builds itself on first use
shopt -s nullglob
files=("$OUT"/scenarios/*.tun)
python3 "$here/compare.py" --oracle "$oracle" --tunsim "$root/target/debug/tunsim" \
  --out "$OUT/diffs" --jobs "${JOBS:-2}" "${files[@]}"
