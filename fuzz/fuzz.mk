# SPDX-License-Identifier: BSD-2-Clause
# `make fuzz` (included by the top Makefile): the libFuzzer target for FUZZ_TIME seconds
# (default 60), printing executions and coverage; see fuzz/run.sh for the other knobs.
# Needs cargo-fuzz (installed on first use) and runs on stable with RUSTC_BOOTSTRAP=1.
FUZZ_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
FUZZ_TIME ?= 60

.PHONY: fuzz

fuzz:
	FUZZ_TIME=$(FUZZ_TIME) CARGO=$(or $(CARGO),cargo) bash $(FUZZ_DIR)/run.sh
