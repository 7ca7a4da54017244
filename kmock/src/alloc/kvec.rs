// SPDX-License-Identifier: BSD-2-Clause
//! [`KVec`]: a growable array whose growth can fail, as `kernel::alloc::KVec`.

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use std::vec::Vec;

use super::{check, AllocError, Flags};

/// A contiguous growable array (`KVec<T>` in Rust-for-Linux): every operation that may
/// allocate takes [`Flags`] and returns `Result<_, AllocError>`.
///
/// # Invariants
///
/// The elements `0..len()` are initialized; capacity only grows through a checked call.
pub struct KVec<T>(Vec<T>);

impl<T> KVec<T> {
    /// An empty vector; allocates nothing.
    pub const fn new() -> Self {
        KVec(Vec::new())
    }

    /// An empty vector with room for `n` elements.
    #[track_caller]
    pub fn with_capacity(n: usize, flags: Flags) -> Result<Self, AllocError> {
        let mut v = KVec::new();
        v.reserve_at(n, flags, Location::caller())?;
        Ok(v)
    }

    fn reserve_at(
        &mut self,
        additional: usize,
        flags: Flags,
        site: &'static Location<'static>,
    ) -> Result<(), AllocError> {
        if self.0.capacity() - self.0.len() >= additional {
            return Ok(());
        }
        check(
            site,
            additional.saturating_mul(core::mem::size_of::<T>()),
            flags,
        )?;
        self.0.try_reserve(additional).map_err(|_| AllocError)
    }

    /// Makes room for `additional` more elements.
    #[track_caller]
    pub fn reserve(&mut self, additional: usize, flags: Flags) -> Result<(), AllocError> {
        self.reserve_at(additional, flags, Location::caller())
    }

    /// Appends `v`, growing the allocation if needed (which may fail).
    #[track_caller]
    pub fn push(&mut self, v: T, flags: Flags) -> Result<(), AllocError> {
        self.reserve_at(1, flags, Location::caller())?;
        self.0.push(v);
        Ok(())
    }

    /// Removes and returns the last element.
    pub fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// Removes every element (keeps the allocation).
    pub fn clear(&mut self) {
        self.0.clear()
    }

    /// Shortens the vector to `len` elements.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }

    /// Elements the allocation holds without growing.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<T: Clone> KVec<T> {
    /// Appends a copy of every element of `other`.
    #[track_caller]
    pub fn extend_from_slice(&mut self, other: &[T], flags: Flags) -> Result<(), AllocError> {
        self.reserve_at(other.len(), flags, Location::caller())?;
        self.0.extend_from_slice(other);
        Ok(())
    }
}

impl<T> Default for KVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for KVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for KVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for KVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
