// SPDX-License-Identifier: BSD-2-Clause
//! [`KBox`]: an owned heap allocation, as `kernel::alloc::KBox` (`Box<T, Kmalloc>`).

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::pin::Pin;
use std::boxed::Box;

use super::{check, AllocError, Flags};

/// An owned heap allocation whose creation can fail (`KBox<T>` in Rust-for-Linux).
///
/// # Invariants
///
/// The box always owns a valid `T`; it is freed when the `KBox` drops.
pub struct KBox<T: ?Sized>(Box<T>);

impl<T> KBox<T> {
    /// Allocates memory with `flags` and moves `x` into it (`KBox::new(x, GFP_KERNEL)?`).
    #[track_caller]
    pub fn new(x: T, flags: Flags) -> Result<Self, AllocError> {
        Self::new_at(x, flags, Location::caller())
    }

    /// As [`KBox::new`], charged to call site `site` (for allocators built on `KBox`).
    pub(crate) fn new_at(
        x: T,
        flags: Flags,
        site: &'static Location<'static>,
    ) -> Result<Self, AllocError> {
        check(site, core::mem::size_of::<T>(), flags)?;
        Ok(KBox(Box::new(x)))
    }

    /// Allocates and pins (`KBox::pin(x, flags)`). On the host only `Unpin` values can be
    /// pinned without `unsafe`; kmock's locks are `Unpin`.
    #[track_caller]
    pub fn pin(x: T, flags: Flags) -> Result<Pin<Self>, AllocError>
    where
        T: Unpin,
    {
        let b = Self::new_at(x, flags, Location::caller())?;
        Ok(Pin::new(b))
    }

    /// Runs an initializer into a new pinned allocation (`KBox::pin_init`).
    #[track_caller]
    pub fn pin_init<E>(
        init: impl crate::init::PinInit<T, E>,
        flags: Flags,
    ) -> Result<Pin<Self>, crate::error::Error>
    where
        T: Unpin,
        crate::error::Error: From<E>,
    {
        let site = Location::caller();
        check(site, core::mem::size_of::<T>(), flags)?;
        Ok(Pin::new(KBox(Box::new(init.__init()?))))
    }

    /// Moves the value out, freeing the allocation.
    pub fn into_inner(b: Self) -> T {
        *b.0
    }
}

impl<T: ?Sized> Deref for KBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> DerefMut for KBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: ?Sized> Unpin for KBox<T> {}

impl<T: ?Sized + fmt::Debug> fmt::Debug for KBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
