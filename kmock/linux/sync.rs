// SPDX-License-Identifier: BSD-2-Clause
//! `kernel::sync`: the real `Arc`, `Mutex`, `SpinLock` and `CondVar`, and [`Spin`], the
//! movable spinlock of the BSD types that the driver builds with `Default` (no pinning, no
//! allocation).

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

pub use kernel::sync::{Arc, CondVar, Mutex, SpinLock};

/// A spinlock that may be moved while unlocked: an atomic flag, taken with preemption
/// disabled (as `spin_lock` does). Held only for a few loads and stores, never across a
/// sleep or a call into the driver.
///
/// # Invariants
///
/// `data` is accessed only through a [`SpinGuard`], and at most one guard exists at a time
/// (`locked` is true exactly while one exists).
pub struct Spin<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `data` to one thread at a time (type invariant), so
// sharing a `Spin<T>` is as safe as sending a `T`.
unsafe impl<T: Send> Sync for Spin<T> {}
// SAFETY: moving the lock moves the `T` with it.
unsafe impl<T: Send> Send for Spin<T> {}

impl<T> Spin<T> {
    /// An unlocked lock holding `data`.
    pub const fn new(data: T) -> Self {
        Spin {
            locked: AtomicBool::new(false),
            data: UnsafeCell::new(data),
        }
    }

    /// Takes the lock, spinning with preemption disabled.
    pub fn lock(&self) -> SpinGuard<'_, T> {
        crate::ffi::preempt_off();
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        SpinGuard { lock: self }
    }
}

impl<T: Default> Default for Spin<T> {
    fn default() -> Self {
        Spin::new(T::default())
    }
}

/// The guard of a [`Spin`]; unlocks (and re-enables preemption) when dropped.
pub struct SpinGuard<'a, T> {
    lock: &'a Spin<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists, so this thread holds the lock (type invariant of Spin).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        crate::ffi::preempt_on();
    }
}

/// `Arc<dyn Any>` → `Arc<T>` when the object is a `T` (6.12's `Arc` has no `downcast`).
pub fn downcast_arc<T: core::any::Any + Send + Sync>(
    a: Arc<dyn core::any::Any + Send + Sync>,
) -> core::result::Result<Arc<T>, Arc<dyn core::any::Any + Send + Sync>> {
    let any: &dyn core::any::Any = &*a;
    if any.is::<T>() {
        let raw = Arc::into_raw(a) as *const T;
        // SAFETY: `raw` comes from `Arc::into_raw` of an `Arc` whose pointee is a `T` (the
        // type check above); casting away the vtable keeps the data pointer, so
        // `from_raw` rebuilds the same allocation with the same count.
        Ok(unsafe { Arc::from_raw(raw) })
    } else {
        Err(a)
    }
}
