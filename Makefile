# SPDX-License-Identifier: BSD-2-Clause
# Wraps the cargo commands. `make check` is what CI runs (see .ci/run).
CARGO ?= cargo

.PHONY: all test check fmt clippy doc clean scenarios demo bench

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

bench:
	$(CARGO) bench -p if_tun

check: fmt clippy test doc

clean:
	$(CARGO) clean
