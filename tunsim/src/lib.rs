// SPDX-License-Identifier: BSD-2-Clause
//! # tunsim: run tun scenarios against the Rust port
//!
//! The scenario language (`scenario-language.md`, carried in `tests/scenarios/`) drives the
//! `if_tun` driver through every entry point; tunsim prints the transcript, which must be
//! byte-identical to what the original C driver prints on the same scenario.
//!
//! - [`scenario`]: the scenario runner — lexer, parser and command types, the executor
//!   (by command group), transcript formatting, leak accounting, and [`check`] against
//!   golden files.
//! - [`fuzzops`]: fuzzing operations — arbitrary bytes decoded into entry-point calls on
//!   both sides, run with the softc invariants checked after each, and rendered as
//!   scenarios (for the fuzz target, the proptest state machine and `tools/fuzz-diff`).
//! - [`hostos`]: what the runner asks of the host OS (the futex hash its thousands of
//!   sleeping jobs need on Linux 6.17 and later).
//! - [`repl`]: `tunsim repl`, the interactive runner (line editing, `help`, carets).
//! - [`net`]: the real-packet tools — smoltcp stacks on both sides of the driver, pcap
//!   captures, the Linux bridge and the demo.
//!
//! The modules of [`net`] and [`scenario::check`] are also reachable at the crate root
//! (`tunsim::peer`, `tunsim::stack`, …), their paths before the split.

pub mod fuzzops;
pub mod hostos;
pub mod net;
pub mod repl;
pub mod scenario;

#[cfg(target_os = "linux")]
pub use net::bridge;
pub use net::{demo, pcap, peer, stack};
pub use scenario::check;
pub use scenario::{run_scenario, Sim};
