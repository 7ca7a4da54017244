// SPDX-License-Identifier: BSD-2-Clause
//! Reference counting, locks and condition variables, as `kernel::sync` in Rust-for-Linux.
//!
//! [`Arc`] is fallible to create and has no `Weak`.
//! [`Mutex`] and [`SpinLock`] hand out guards; [`CondVar::wait`] and
//! [`CondVar::wait_interruptible`] release the guard's lock while sleeping and take it again
//! before returning, so no notification can slip between the check and the sleep. The
//! userspace implementation sits on `std::sync`; a poisoned lock (a panicking holder) is
//! taken over rather than propagated, as a kernel lock has no poisoning.

mod arc;
pub use arc::Arc;

use crate::platform as stdsync;
use core::ops::{Deref, DerefMut};
use std::time::Duration;

/// A sleeping mutual-exclusion lock (`struct mutex` / DragonFly `lockmgr`).
pub struct Mutex<T: ?Sized> {
    inner: stdsync::Mutex<T>,
}

/// A spinning lock (`spinlock_t` / DragonFly `spinlock`); in userspace it sleeps like
/// [`Mutex`], which is semantically equivalent for correct code.
pub type SpinLock<T> = Mutex<T>;

/// The guard of a locked [`Mutex`] or [`SpinLock`]; the lock is released when it drops.
///
/// # Invariants
///
/// `inner` is `Some` except transiently inside [`CondVar`] waits and
/// [`Guard::do_unlocked`], which always put it back before returning.
pub struct Guard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    inner: Option<stdsync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `data`.
    #[cfg(not(loom))]
    pub const fn new(data: T) -> Self {
        Mutex {
            inner: stdsync::Mutex::new(data),
        }
    }

    /// Creates an unlocked mutex holding `data` (loom's cannot be `const`).
    #[cfg(loom)]
    pub fn new(data: T) -> Self {
        Mutex {
            inner: stdsync::Mutex::new(data),
        }
    }

    /// Consumes the lock and returns its data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Acquires the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> Guard<'_, T> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Guard {
            lock: self,
            inner: Some(g),
        }
    }

    /// Acquires the lock if it is free.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        match self.inner.try_lock() {
            Ok(g) => Some(Guard {
                lock: self,
                inner: Some(g),
            }),
            Err(stdsync::TryLockError::Poisoned(p)) => Some(Guard {
                lock: self,
                inner: Some(p.into_inner()),
            }),
            Err(stdsync::TryLockError::WouldBlock) => None,
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<'a, T: ?Sized> Guard<'a, T> {
    /// Releases the lock, runs `f`, and takes the lock again (Rust-for-Linux's
    /// `Guard::do_unlocked`; the C pattern `unlock(); f(); lock();`).
    pub fn do_unlocked<U>(&mut self, f: impl FnOnce() -> U) -> U {
        drop(self.inner.take());
        let r = f();
        self.inner = Some(self.lock.inner.lock().unwrap_or_else(|e| e.into_inner()));
        r
    }

    fn take_inner(&mut self) -> stdsync::MutexGuard<'a, T> {
        // The invariant says `inner` is Some here; if it were not, relocking is the safe
        // recovery (it cannot be None across an API boundary).
        match self.inner.take() {
            Some(g) => g,
            None => self.lock.inner.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

impl<T: ?Sized> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.inner {
            Some(g) => g,
            // Unreachable by the type's invariant; a guard is only observable when held.
            None => unreachable!("kmock::sync::Guard used while unlocked"),
        }
    }
}

impl<T: ?Sized> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Some(g) => g,
            None => unreachable!("kmock::sync::Guard used while unlocked"),
        }
    }
}

/// A condition variable (`struct condvar`), used with a [`Guard`].
#[derive(Default)]
pub struct CondVar {
    inner: stdsync::Condvar,
}

impl CondVar {
    /// Creates a condition variable with no waiters.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        CondVar {
            inner: stdsync::Condvar::new(),
        }
    }

    /// Creates a condition variable with no waiters (loom's cannot be `const`).
    #[cfg(loom)]
    pub fn new() -> Self {
        CondVar {
            inner: stdsync::Condvar::new(),
        }
    }

    /// Releases the guard's lock, sleeps until notified, takes the lock again.
    /// Spurious wakeups are possible: callers re-check their condition in a loop.
    pub fn wait<'a, T>(&self, guard: &mut Guard<'a, T>) {
        let g = guard.take_inner();
        let g = self.inner.wait(g).unwrap_or_else(|e| e.into_inner());
        // SAFETY-free re-seat: the new guard borrows the same lock for the same lifetime.
        guard.inner = Some(reborrow(g));
    }

    /// As [`CondVar::wait`], but returns `true` without sleeping (or as soon as one
    /// arrives) when the current process has a signal pending, like
    /// Rust-for-Linux's `wait_interruptible` (and BSD's `PCATCH`).
    pub fn wait_interruptible<'a, T>(&self, guard: &mut Guard<'a, T>) -> bool {
        if crate::door::signal_pending() {
            return true;
        }
        let g = guard.take_inner();
        // Poll for signals at a coarse interval: a signal is posted to a process, not to
        // this condition variable, so the sleep cannot be notified directly.
        let (g, _) = self
            .inner
            .wait_timeout(g, Duration::from_millis(10))
            .unwrap_or_else(|e| e.into_inner());
        guard.inner = Some(reborrow(g));
        crate::door::signal_pending()
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.inner.notify_all();
    }
}

fn reborrow<'a, T>(g: stdsync::MutexGuard<'a, T>) -> stdsync::MutexGuard<'a, T> {
    g
}

/// `new_mutex!(value, "name")`: an initializer of a [`Mutex`] holding `value`, as
/// Rust-for-Linux's macro (which also names the lock class; lock classes are not modelled
/// here). Run it with `KBox::pin_init` or `Arc::pin_init`.
#[macro_export]
macro_rules! new_mutex {
    ($value:expr $(, $name:literal)? $(,)?) => {{
        let v = $value;
        move || {
            ::core::result::Result::<_, ::core::convert::Infallible>::Ok($crate::sync::Mutex::new(
                v,
            ))
        }
    }};
}

/// `new_spinlock!(value, "name")`: an initializer of a [`SpinLock`] holding `value`.
#[macro_export]
macro_rules! new_spinlock {
    ($value:expr $(, $name:literal)? $(,)?) => {{
        let v = $value;
        move || {
            ::core::result::Result::<_, ::core::convert::Infallible>::Ok(
                $crate::sync::SpinLock::new(v),
            )
        }
    }};
}

/// `new_condvar!("name")`: an initializer of a [`CondVar`].
#[macro_export]
macro_rules! new_condvar {
    ($($name:literal)? $(,)?) => {
        || ::core::result::Result::<_, ::core::convert::Infallible>::Ok($crate::sync::CondVar::new())
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutex_guards_and_do_unlocked() {
        let m = Mutex::new(1);
        {
            let mut g = m.lock();
            *g += 1;
            assert!(m.try_lock().is_none());
            g.do_unlocked(|| assert!(m.try_lock().is_some()));
            *g += 1;
        }
        assert_eq!(*m.lock(), 3);
        assert_eq!(m.into_inner(), 3);
    }

    #[test]
    fn constructor_macros() {
        use crate::alloc::{flags::GFP_KERNEL, KBox};
        let m = KBox::pin_init(crate::new_mutex!(5u8, "m"), GFP_KERNEL).unwrap();
        let s = Arc::pin_init(crate::new_spinlock!(6u8), GFP_KERNEL).unwrap();
        let _c = KBox::pin_init(crate::new_condvar!("c"), GFP_KERNEL).unwrap();
        assert_eq!((*m.lock(), *s.lock()), (5, 6));
    }

    #[test]
    fn wait_interruptible_returns_at_once_when_a_signal_is_pending() {
        let k = crate::Kernel::new();
        k.proc_set(3, 3, 1, 0).unwrap();
        let _ctx = k.enter(3);
        let m = Mutex::new(());
        let c = CondVar::new();
        let mut g = m.lock();
        // No signal: the (bounded) wait returns false.
        assert!(!c.wait_interruptible(&mut g));
        k.post_signal(3, false).unwrap();
        assert!(c.wait_interruptible(&mut g));
    }

    #[test]
    fn condvar_wakes_a_waiter() {
        let pair = std::sync::Arc::new((Mutex::new(false), CondVar::new()));
        let p2 = pair.clone();
        let t = std::thread::spawn(move || {
            *p2.0.lock() = true;
            p2.1.notify_all();
        });
        let mut g = pair.0.lock();
        while !*g {
            pair.1.wait(&mut g);
        }
        t.join().unwrap();
        assert!(*g);
    }
}
