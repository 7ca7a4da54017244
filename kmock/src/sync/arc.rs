// SPDX-License-Identifier: BSD-2-Clause
//! [`Arc`]: a reference-counted pointer, as `kernel::sync::Arc` in Rust-for-Linux.
//!
//! Its creation is fallible ([`Arc::new`] takes [`Flags`]); there is no `Weak` and no
//! `new_cyclic`: a structure that points back at its owner holds a strong reference set
//! after creation, and teardown breaks the cycle explicitly, as kernel code does.
//!
//! On the host it wraps `std::sync::Arc`. Safe stable Rust cannot express the unsizing
//! coercion `Arc<T>` → `Arc<dyn Trait>` for a user-defined pointer, so kmock's APIs that
//! need a trait object take `Arc<T>` generically and make the trait object inside.

use core::any::Any;
use core::fmt;
use core::ops::Deref;
use core::panic::Location;
use std::sync::Arc as StdArc;

use crate::alloc::{check, AllocError, Flags};
use crate::error::Error;
use crate::init::PinInit;

/// A reference-counted pointer to a `T` shared between threads (`kernel::sync::Arc`).
///
/// # Invariants
///
/// The pointee lives as long as any `Arc` to it; the count is never zero while one exists.
pub struct Arc<T: ?Sized>(pub(crate) StdArc<T>);

impl<T> Arc<T> {
    /// Allocates with `flags` and moves `x` into the new allocation.
    #[track_caller]
    pub fn new(x: T, flags: Flags) -> Result<Self, AllocError> {
        check(Location::caller(), core::mem::size_of::<T>(), flags)?;
        Ok(Arc(StdArc::new(x)))
    }

    /// Runs an initializer into a new allocation (`Arc::pin_init`).
    #[track_caller]
    pub fn pin_init<E>(init: impl PinInit<T, E>, flags: Flags) -> Result<Self, Error>
    where
        Error: From<E>,
    {
        check(Location::caller(), core::mem::size_of::<T>(), flags)?;
        Ok(Arc(StdArc::new(init.__init()?)))
    }
}

impl<T: ?Sized> Arc<T> {
    /// Whether `a` and `b` point to the same allocation.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        StdArc::ptr_eq(&a.0, &b.0)
    }

    /// The address of the pointee (a stable identity, e.g. a wait channel).
    pub fn as_ptr(this: &Self) -> *const T {
        StdArc::as_ptr(&this.0)
    }

    /// Wraps a host `std::sync::Arc` (inside kmock only: how trait objects are made).
    pub(crate) fn from_std(a: StdArc<T>) -> Self {
        Arc(a)
    }

    /// The host `std::sync::Arc` inside (for kmock's host side).
    pub(crate) fn as_std(&self) -> &StdArc<T> {
        &self.0
    }
}

impl<T: Any + Send + Sync> Arc<T> {
    /// The same object as a type-erased `Arc<dyn Any + Send + Sync>`.
    pub fn into_any(self) -> Arc<dyn Any + Send + Sync> {
        Arc(self.0)
    }
}

impl Arc<dyn Any + Send + Sync> {
    /// The object as an `Arc<T>`, if it is a `T` (`Arc::downcast`).
    pub fn downcast<T: Any + Send + Sync>(self) -> Result<Arc<T>, Self> {
        self.0.downcast::<T>().map(Arc).map_err(Arc)
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    fn clone(&self) -> Self {
        Arc(self.0.clone())
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<T: ?Sized> AsRef<T> for Arc<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}
