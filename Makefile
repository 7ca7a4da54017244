# Wraps the cargo commands. `make check` is what CI runs (see .ci/run).
CARGO ?= cargo

.PHONY: all test check fmt clippy doc clean scenarios

all:
	$(CARGO) build --workspace --all-targets

test:
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps

scenarios:
	$(CARGO) run -q -p tunsim -- check tests/scenarios

check: fmt clippy test doc

clean:
	$(CARGO) clean
