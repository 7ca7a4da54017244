// SPDX-License-Identifier: BSD-2-Clause
//! In-place initializers, as `kernel::init` (pin-init) in Rust-for-Linux.
//!
//! In the kernel a lock must not move once initialized, so `new_mutex!` and friends return
//! an *initializer* that `KBox::pin_init` or `Arc::pin_init` runs into its final, pinned
//! place. On the host nothing forbids moving a lock, and an initializer is modelled as a
//! closure that produces the value; the shapes (and the fallibility) are the kernel's, so
//! code written against them builds on both.

use core::convert::Infallible;

/// An initializer of a `T` in pinned memory that may fail with `E`.
pub trait PinInit<T, E = Infallible>: Sized {
    /// Runs the initializer. (In the kernel this writes into a raw slot; here it returns
    /// the value.)
    fn __init(self) -> Result<T, E>;
}

impl<T, E, F: FnOnce() -> Result<T, E>> PinInit<T, E> for F {
    fn __init(self) -> Result<T, E> {
        self()
    }
}

/// An initializer that moves an existing value into place (`pin_init::init_from`).
pub fn from_value<T>(v: T) -> impl PinInit<T> {
    move || Ok::<T, Infallible>(v)
}
