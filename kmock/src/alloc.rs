// SPDX-License-Identifier: BSD-2-Clause
//! Memory allocation, as `kernel::alloc` in Rust-for-Linux 6.12: [`KBox`], [`KVec`],
//! [`Flags`] with [`flags::GFP_KERNEL`], [`flags::GFP_ATOMIC`], [`flags::GFP_NOWAIT`],
//! and [`AllocError`].
//!
//! Every allocation is fallible and takes flags, as in the kernel: there is no `Box::new`,
//! no `Vec::push` that aborts on exhaustion. On the host the memory comes from the global
//! allocator, and each allocation first asks the door whether the current kernel instance
//! wants it to fail ([`crate::Kernel::fail_alloc_nth`], [`crate::Kernel::fail_alloc_at`]):
//! that is how every allocation failure path of the driver is reached by a test. The call
//! site a failure is matched against is the caller of `KBox::new`/`KVec::push`/… (the
//! functions are `#[track_caller]`).

mod kbox;
mod kvec;

pub use kbox::KBox;
pub use kvec::KVec;

use core::panic::Location;

/// Allocation flags (`gfp_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    /// The raw `gfp_t` bits (Linux's values for the three flag sets kmock knows).
    pub const fn as_raw(self) -> u32 {
        self.0
    }

    /// Whether the allocation may sleep (`__GFP_DIRECT_RECLAIM`).
    pub const fn may_sleep(self) -> bool {
        self.0 & 0x400 != 0
    }
}

/// The allocation flag sets, as `kernel::alloc::flags`.
pub mod flags {
    use super::Flags;

    /// `GFP_KERNEL`: may sleep and reclaim; the usual flag in process context.
    pub const GFP_KERNEL: Flags = Flags(0xcc0);
    /// `GFP_ATOMIC`: may not sleep; may use the atomic reserves (interrupt context, or
    /// under a spinlock). BSD's `M_NOWAIT`/`MB_DONTWAIT`.
    pub const GFP_ATOMIC: Flags = Flags(0xa20);
    /// `GFP_NOWAIT`: may not sleep and does not use the reserves.
    pub const GFP_NOWAIT: Flags = Flags(0x800);
}

/// The allocation failed (`-ENOMEM` in the kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError;

impl From<AllocError> for crate::error::Error {
    fn from(_: AllocError) -> Self {
        crate::error::code::ENOMEM
    }
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("memory allocation failed")
    }
}

/// Asks the door whether the allocation at `site` (of `size` bytes) must fail.
pub(crate) fn check(
    site: &'static Location<'static>,
    size: usize,
    _flags: Flags,
) -> Result<(), AllocError> {
    if crate::door::alloc_fails(site, size) {
        Err(AllocError)
    } else {
        Ok(())
    }
}
