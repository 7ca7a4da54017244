#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs the libFuzzer target for FUZZ_TIME seconds and prints what libFuzzer reports:
# executions, coverage (cov: = edges, ft: = features), corpus size, and any crash.
#
#   fuzz/run.sh            (or `make fuzz`; FUZZ_TIME=600 make fuzz for ten minutes)
#
# Environment: FUZZ_TIME (seconds, default 60), FUZZ_TARGET (tun_ops), FUZZ_SANITIZER
# (none; `address` needs a nightly-capable rustc, which RUSTC_BOOTSTRAP=1 provides),
# FUZZ_FLAGS (extra libFuzzer flags, default -max_len=4096 -rss_limit_mb=8192: each
# iteration loads the driver into a new kernel, and kmock::module::load keeps ~0.7 KB of
# every load, so the default 2 GB limit ends a run after about 3 million executions), CARGO.
# New inputs go to fuzz/corpus/TARGET (kept between runs, not committed); fuzz/seeds is
# read as a second corpus. A crash is saved in fuzz/artifacts/TARGET and fails the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
CARGO=${CARGO:-cargo}
time=${FUZZ_TIME:-60}
target=${FUZZ_TARGET:-tun_ops}
san=${FUZZ_SANITIZER:-none}
flags=${FUZZ_FLAGS:--max_len=4096 -rss_limit_mb=8192}
export RUSTC_BOOTSTRAP=1
if ! "$CARGO" fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing; installing it (cargo install cargo-fuzz)"
  "$CARGO" install cargo-fuzz
fi
"$CARGO" fuzz build --sanitizer "$san" "$target"
mkdir -p "corpus/$target" "artifacts/$target"
log=$here/fuzz.log
echo "fuzz: running $target for ${time}s (log: $log)"
set +e
# shellcheck disable=SC2086
"$CARGO" fuzz run --sanitizer "$san" "$target" "corpus/$target" seeds -- \
  -max_total_time="$time" -print_final_stats=1 $flags >"$log" 2>&1
status=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|panicked at|invariant violated|^==[0-9]+==|SUMMARY|^artifact_prefix|Test unit written' "$log" || true
done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -oE 'cov: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+' || true)
ft=$(grep -oE 'ft: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+' || true)
corpus=$(find "corpus/$target" -type f | wc -l)
crashes=$(find "artifacts/$target" -type f | wc -l)
echo "fuzz: target=$target time=${time}s executions=${execs:-?} cov(edges)=${cov:-?} ft(features)=${ft:-?} corpus=$corpus crashes-in-artifacts=$crashes exit=$status"
exit "$status"
