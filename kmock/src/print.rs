// SPDX-License-Identifier: BSD-2-Clause
//! Kernel logging, as `kernel::print` in Rust-for-Linux: `pr_err!`, `pr_warn!`,
//! `pr_info!`, `pr_debug!`.
//!
//! Lines go to the current kernel's console ([`crate::Kernel::console`]), or to standard
//! error outside a kernel context. `pr_debug!` prints only when the `KMOCK_DEBUG`
//! environment variable is set, as a `DEBUG`-less kernel compiles it out.

#[doc(hidden)]
pub fn _print(level: &str, args: core::fmt::Arguments<'_>) {
    crate::door::console_print(level, args)
}

/// Prints an error-level message.
#[macro_export]
macro_rules! pr_err {
    ($($arg:tt)*) => { $crate::print::_print("err", format_args!($($arg)*)) };
}

/// Prints a warning-level message.
#[macro_export]
macro_rules! pr_warn {
    ($($arg:tt)*) => { $crate::print::_print("warn", format_args!($($arg)*)) };
}

/// Prints an info-level message.
#[macro_export]
macro_rules! pr_info {
    ($($arg:tt)*) => { $crate::print::_print("info", format_args!($($arg)*)) };
}

/// Prints a debug-level message (only with `KMOCK_DEBUG` set).
#[macro_export]
macro_rules! pr_debug {
    ($($arg:tt)*) => { $crate::print::_print("debug", format_args!($($arg)*)) };
}
