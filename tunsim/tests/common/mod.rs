// SPDX-License-Identifier: BSD-2-Clause
//! What several of tunsim's test binaries share.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `cmd` (usually the built `tunsim` with its arguments) with `input` on its standard
/// input, and returns what it printed and how it exited.
pub fn run_with_input(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("tunsim starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("tunsim reads its input");
    child.wait_with_output().expect("tunsim ends")
}
