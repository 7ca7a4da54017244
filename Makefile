# SPDX-License-Identifier: BSD-2-Clause
# Wraps the cargo commands. `make check` is what CI runs (see .ci/run).
CARGO ?= cargo

.PHONY: all test check fmt clippy doc clean scenarios demo bench bench-runner modules modules-clean loom diagrams

include kernel/kernel.mk

all:
	$(CARGO) build --workspace --all-targets

test:
	$(CARGO) test --workspace
	$(CARGO) test -p if_tun --all-features

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p if_tun --no-default-features -- -D warnings

doc:
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps

scenarios:
	$(CARGO) run -q -p tunsim -- check tests/scenarios

demo:
	$(CARGO) run -q -p tunsim -- demo

# Issue 11's measurements (docs/performance.md): the per-packet paths, the floor, Linux's
# tun (root only), the writer/reader threads on one and two cores, then TCP through the
# driver vs a bare pipe. BENCH_ARGS go to criterion (a filter, --measurement-time 5...),
# TCP_ARGS to `tunsim bench-tcp` (--runs N --bytes N --framing F).
# RUNNER_ARGS go to tools/runner-scale.py (the runner's time and memory against blocked
# jobs and scenario size; --bytes 10M,100M,1G by default, a 1 GB scenario takes minutes).
BENCH_ARGS ?=
TCP_ARGS ?=
RUNNER_ARGS ?=
bench:
	$(CARGO) bench -p if_tun --bench paths -- $(BENCH_ARGS)
	$(CARGO) run --release -q -p tunsim -- bench-tcp $(TCP_ARGS)
	$(MAKE) --no-print-directory bench-runner

bench-runner:
	$(CARGO) build --release -q -p tunsim
	python3 tools/runner-scale.py $(RUNNER_ARGS)

# Model checking (docs/reliability.md): kmock's locks and sleep queues on loom, the real
# tunread against tunoutput and tunclose in every interleaving (its own target dir: every
# crate is rebuilt with --cfg loom).
loom:
	RUSTFLAGS="--cfg loom" $(CARGO) test --target-dir target/loom -p if_tun --test loom -- --nocapture

check: fmt clippy test doc

clean:
	$(CARGO) clean

# if_tun.ko for Linux 6.12 (docs/kernel.md): driver/ compiled unchanged against kshim
# (kmock/linux). KDIR is a module-build tree of a Rust-enabled kernel built by the same
# rustc (`make kernel` makes one and `make kernel-dir` prints its folder).
KDIR ?= $(KERNEL_KDIR)
BITFLAGS_SRC = $(shell python3 tools/crate-src.py bitflags 2)
STATIC_ASSERTIONS_SRC = $(shell python3 tools/crate-src.py static_assertions 1)

modules:
	@mkdir -p kbuild
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KERNEL_MAKEFLAGS) \
		BITFLAGS_SRC=$(BITFLAGS_SRC) STATIC_ASSERTIONS_SRC=$(STATIC_ASSERTIONS_SRC) modules

modules-clean:
	rm -rf kbuild if_tun.ko if_tun.o if_tun.mod if_tun.mod.c if_tun.mod.o modules.order \
		Module.symvers .*.cmd kmock/linux/*.o kmock/linux/.*.cmd kmock/linux/*.d

# The diagrams of README and docs/porting-guide.md, from their Graphviz sources (needs dot;
# tunsim's diagrams test fails when a source changed without its SVG).
diagrams:
	docs/diagrams/render.sh

# make fuzz (docs/reliability.md); included last so that `all` stays the default goal.
include fuzz/fuzz.mk
