//! # tunsim: run tun scenarios against the Rust port
//!
//! The scenario language (`scenario-language.md`, carried in `tests/scenarios/`) drives the
//! `if_tun` driver through every entry point; tunsim prints the transcript, which must be
//! byte-identical to what the original C driver prints on the same scenario.
//!
//! - [`lang`], [`payload`]: parsing (lines, commands, payload tokens, numbers).
//! - [`env`](mod@env): the environment (processes, descriptors, bpf listeners, jobs, the generic
//!   ioctl layer through kmock) and the executor that prints transcripts.
//! - [`check`]: compares transcripts with golden files and prints unified diffs.

#[cfg(target_os = "linux")]
pub mod bridge;
pub mod check;
pub mod demo;
pub mod env;
pub mod lang;
pub mod payload;
pub mod pcap;
pub mod peer;
pub mod stack;

pub use env::{run_scenario, Sim};
