// SPDX-License-Identifier: BSD-2-Clause
//! `static_assert!`, as `kernel::static_assert` in Rust-for-Linux.

/// Fails the build if `cond` (a constant expression) is false:
/// `static_assert!(core::mem::size_of::<u32>() == 4);`.
#[macro_export]
macro_rules! static_assert {
    ($cond:expr $(,)?) => {
        const _: () = ::core::assert!($cond);
    };
    ($cond:expr, $msg:literal $(,)?) => {
        const _: () = ::core::assert!($cond, $msg);
    };
}
