// SPDX-License-Identifier: BSD-2-Clause
//! The fuzz target's operations (`tunsim::fuzzops`) as a proptest state machine: random
//! sequences of entry-point calls on both sides of the driver and kernel events (signals,
//! bpf listeners, allocation failures by the mbuf zone and by `Kernel::fail_alloc_nth`),
//! with the softc invariants checked after every operation and no live mbuf after
//! everything is closed. Also: every operation's scenario form parses, and the scenario of
//! a random sequence runs in tunsim without a leak; the inputs in `fuzz/seeds/` (the
//! fuzzer's seeds and the regression inputs of anything it ever found) all pass.

use proptest::prelude::*;
use tunsim::fuzzops::{self, Op, Reader, World};
use tunsim::scenario::command::{Command, Line};
use tunsim::scenario::parser::parse_line;

/// One operation, decoded from a short random byte string (as the fuzzer decodes its input).
fn op() -> impl Strategy<Value = Op> {
    prop::collection::vec(any::<u8>(), 1..40).prop_map(|b| fuzzops::decode_op(&mut Reader::new(&b)))
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn operation_sequences_keep_the_softc_invariants_and_leak_nothing(
        ops in prop::collection::vec(op(), 1..=64)
    ) {
        let mut w = World::new();
        for (i, op) in ops.iter().enumerate() {
            w.apply(op);
            if let Err(e) = w.check() {
                prop_assert!(false, "after op {} ({:?}): {}", i + 1, op, e);
            }
        }
        if let Err(e) = w.finish() {
            prop_assert!(false, "at the end: {}", e);
        }
    }

    #[test]
    fn every_scenario_form_parses(ops in prop::collection::vec(op(), 1..=64)) {
        for op in &ops {
            for l in op.scenario_lines().unwrap_or_default() {
                match parse_line(&l) {
                    Line::Command { cmd: Ok(c), .. } => {
                        prop_assert!(!matches!(c, Command::Deferred { .. }), "{}: {:?}", l, c)
                    }
                    other => prop_assert!(false, "{:?} renders as {}: {:?}", op, l, other),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn scenarios_of_operation_sequences_run_without_a_leak(
        ops in prop::collection::vec(op(), 1..=64)
    ) {
        let (text, _) = fuzzops::scenario(&ops);
        let out = tunsim::run_scenario(&text, false);
        let end = out.lines().last().unwrap_or_default();
        prop_assert!(end.ends_with(" leaked=0"), "{}\n{}", text, out);
        prop_assert!(!out.contains("leak:"), "{}\n{}", text, out);
    }

    #[test]
    fn a_run_is_deterministic(ops in prop::collection::vec(op(), 1..=64)) {
        // libFuzzer needs the same input to take the same path: same counts, same
        // allocations, whatever the OS does with the reader threads.
        let a = fuzzops::run(&ops);
        let b = fuzzops::run(&ops);
        prop_assert_eq!(a, b);
    }
}

#[test]
fn the_fuzzer_seeds_and_regression_inputs_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz/seeds exists") {
        let p = e.expect("readable entry").path();
        let data = std::fs::read(&p).expect("readable seed");
        if let Err(e) = fuzzops::run_bytes(&data) {
            panic!("{}: {e}", p.display());
        }
        n += 1;
    }
    assert!(n > 0, "no seeds in {}", dir.display());
}

#[test]
fn decoding_covers_every_kind_of_operation() {
    // Every first byte selects an operation kind; together they reach all of them.
    let mut kinds = std::collections::HashSet::new();
    for b in 0..=255u8 {
        for tail in [0u8, 1, 2, 3, 4, 5, 6, 7] {
            let op = fuzzops::decode_op(&mut Reader::new(&[b, tail, tail, 0xff]));
            kinds.insert(std::mem::discriminant(&op));
        }
    }
    assert_eq!(kinds.len(), 26);
}
