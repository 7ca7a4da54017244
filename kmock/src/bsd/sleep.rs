// SPDX-License-Identifier: BSD-2-Clause
//! `tsleep`/`wakeup`: sleeping on a wait channel (`kern_synch.c`).
//!
//! BSD semantics mirrored:
//! - `tsleep(ident, flags, wmesg, timo)` sleeps until `wakeup(ident)`; with `PCATCH` a
//!   signal ends the sleep with `EINTR` (or `ERESTART` for an `SA_RESTART` handler).
//! - `wakeup(ident)` wakes *every* thread sleeping on `ident`.
//! - The wait channel is an address: any object's address serves (`wakeup(tp)`).
//!
//! Unlike DragonFly's bare `tsleep`, [`tsleep`] takes an *interlock*: any value (typically a
//! lock guard) that is dropped only after the thread is on the sleep queue. A waker holding
//! the same lock therefore cannot slip its `wakeup` between the caller's check and its
//! sleep — the lost-wakeup window of the classic `unlock(); tsleep();` pattern is closed,
//! as DragonFly's own `lksleep`/`zsleep` and FreeBSD's `msleep` close it.
//!
//! Two ways of running sleepers share this code:
//! - **threads** (the default): each sleeper blocks its OS thread until woken;
//! - **turn-taking** ([`crate::sched`]): only one kernel thread runs at a time; a thread
//!   that sleeps hands the turn back to the runner, and woken sleepers run only when the
//!   runner resumes them. Scenario transcripts are deterministic this way.

use crate::door;
use crate::error::Result;

/// `PCATCH`: a signal interrupts the sleep.
pub const PCATCH: i32 = 0x100;

/// The address of `ident`, used as a wait channel.
pub fn chan<T: ?Sized>(ident: &T) -> usize {
    (ident as *const T).cast::<()>() as usize
}

/// `tsleep(ident, flags, wmesg, timo)` with an interlock.
///
/// The calling thread goes on the sleep queue of `ident`, then `interlock` is dropped (so a
/// guard passed here is released atomically with respect to `wakeup`), then the thread
/// sleeps. Returns `Ok(())` when woken, `EINTR` (or `ERESTART`) when `flags` has
/// [`PCATCH`] and a signal arrives. `timo` is accepted for fidelity and must be 0 (no
/// timeouts are modelled). Outside a kernel context it fails with `EINVAL` at once.
pub fn tsleep<T: ?Sized, L>(
    ident: &T,
    flags: i32,
    wmesg: &'static str,
    _timo: i32,
    interlock: L,
) -> Result {
    door::tsleep(chan(ident), flags & PCATCH != 0, wmesg, interlock)
}

/// `wakeup(ident)`: wakes every thread sleeping on `ident`. Returns how many it woke
/// (sleepers already woken and not yet run are not counted again).
pub fn wakeup<T: ?Sized>(ident: &T) -> usize {
    door::wakeup(chan(ident))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bsd::errno::ERESTART;
    use crate::error::code;
    use crate::sync::Mutex;
    use crate::Kernel;
    use std::sync::Arc;

    #[test]
    fn wakeup_ends_a_sleep_and_counts_sleepers() {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        let chan_obj = Arc::new(Mutex::new(false));
        let (k2, c2) = (k.clone(), chan_obj.clone());
        let t = std::thread::spawn(move || {
            let _ctx = k2.enter(1);
            let mut g = c2.lock();
            while !*g {
                let r = tsleep(&*c2, PCATCH, "test", 0, g);
                assert_eq!(r, Ok(()));
                g = c2.lock();
            }
        });
        // Wait until the thread sleeps.
        loop {
            if k.sleepers().len() == 1 {
                break;
            }
            std::thread::yield_now();
        }
        let _ctx = k.enter(1);
        *chan_obj.lock() = true;
        assert_eq!(wakeup(&*chan_obj), 1);
        t.join().unwrap();
        assert_eq!(wakeup(&*chan_obj), 0);
    }

    #[test]
    fn a_pending_signal_interrupts_pcatch_sleeps() {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        k.post_signal(1, false).unwrap();
        let _ctx = k.enter(1);
        let x = 0u8;
        assert_eq!(tsleep(&x, PCATCH, "t", 0, ()), Err(code::EINTR));
        k.post_signal(1, true).unwrap();
        assert_eq!(tsleep(&x, PCATCH, "t", 0, ()), Err(ERESTART));
    }

    #[test]
    fn a_signal_wakes_a_sleeping_thread() {
        let k = Kernel::new();
        k.proc_set(7, 7, 1, 0).unwrap();
        let k2 = k.clone();
        let t = std::thread::spawn(move || {
            let _ctx = k2.enter(7);
            let x = 0u8;
            tsleep(&x, PCATCH, "t", 0, ())
        });
        loop {
            if k.sleepers().len() == 1 {
                break;
            }
            std::thread::yield_now();
        }
        k.post_signal(7, false).unwrap();
        assert_eq!(t.join().unwrap(), Err(code::EINTR));
    }

    #[test]
    fn no_context_no_sleep() {
        let x = 0u8;
        assert_eq!(tsleep(&x, 0, "t", 0, ()), Err(code::EINVAL));
        assert_eq!(wakeup(&x), 0);
    }
}
