// SPDX-License-Identifier: BSD-2-Clause
//! The scenario runner: the tun scenario language (`scenario-language.md`) run against the
//! Rust port, printing transcripts byte-identical to the oracle's.
//!
//! - [`lexer`], [`parser`], [`command`]: lines and tokens, then one typed [`Command`]
//!   (or its harness error) per line; [`payload`]: the value syntaxes (numbers, addresses,
//!   flag sets, payload tokens).
//! - [`exec`]: the environment (processes, descriptors, knotes, bpf listeners, jobs) and the
//!   executor, one module per command group.
//! - [`transcript`]: kmock events and results as transcript lines; [`leaks`]: the mbuf
//!   accounting of §7.
//! - [`diagram`]: the sequence chart of a run (`tunsim run --diagram FILE.svg`).
//! - [`help`]: the REPL's `help` text for each command.
//! - [`check`]: compares transcripts with golden files and prints unified diffs.
//!
//! [`Command`]: command::Command

pub mod check;
pub mod command;
pub mod diagram;
pub mod exec;
pub mod help;
pub mod leaks;
pub mod lexer;
pub mod parser;
pub mod payload;
pub mod status;
pub mod transcript;

pub use exec::{run_scenario, run_scenario_diagram, run_scenario_stream, RunnerWork, Sim};
