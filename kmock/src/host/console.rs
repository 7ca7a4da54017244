// SPDX-License-Identifier: BSD-2-Clause
//! The console: `kprintf`/`pr_*!` lines go to the current kernel's log, or to standard
//! error outside a kernel context. `debug` lines print only with `KMOCK_DEBUG` set, as a
//! `DEBUG`-less kernel compiles them out.

use std::string::String;

use super::kernel::current_kernel;

/// Prints one console line at `level`; trailing newlines are dropped.
pub fn print(level: &str, args: core::fmt::Arguments<'_>) {
    if level == "debug" && std::env::var_os("KMOCK_DEBUG").is_none() {
        return;
    }
    let mut line = String::new();
    let _ = core::fmt::Write::write_fmt(&mut line, args);
    while line.ends_with('\n') {
        line.pop();
    }
    match current_kernel() {
        Some(k) => k.console_push(line),
        None => std::eprintln!("[{level}] {line}"),
    }
}
