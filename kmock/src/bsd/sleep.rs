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

use alloc::vec::Vec;
use std::sync::{Condvar, Mutex as StdMutex, MutexGuard};

use crate::error::{code, Result};
use crate::event::Event;
use crate::kernel::{current, Kernel};

/// `PCATCH`: a signal interrupts the sleep.
pub const PCATCH: i32 = 0x100;

/// The address of `ident`, used as a wait channel.
pub fn chan<T: ?Sized>(ident: &T) -> usize {
    (ident as *const T).cast::<()>() as usize
}

#[derive(Debug)]
pub(crate) struct Sleeper {
    pub(crate) tid: u64,
    pub(crate) pid: i32,
    pub(crate) ident: usize,
    pub(crate) wmesg: &'static str,
    pub(crate) woken: bool,
    pub(crate) signal: Option<bool>,
    pub(crate) catch: bool,
}

/// Whose turn it is in turn-taking mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    Runner,
    Thread(u64),
}

pub(crate) struct SleepState {
    pub(crate) sleepers: Vec<Sleeper>,
    pub(crate) turn_taking: bool,
    pub(crate) turn: Turn,
    pub(crate) finished: Vec<u64>,
}

/// The kernel's sleep queues.
pub(crate) struct SleepQueues {
    pub(crate) state: StdMutex<SleepState>,
    pub(crate) cv: Condvar,
}

impl SleepQueues {
    pub(crate) fn new() -> Self {
        SleepQueues {
            state: StdMutex::new(SleepState {
                sleepers: Vec::new(),
                turn_taking: false,
                turn: Turn::Runner,
                finished: Vec::new(),
            }),
            cv: Condvar::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SleepState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn wait<'a>(&self, g: MutexGuard<'a, SleepState>) -> MutexGuard<'a, SleepState> {
        self.cv.wait(g).unwrap_or_else(|e| e.into_inner())
    }

    /// A signal for process `pid`: every interruptible sleeper of it is marked.
    pub(crate) fn signal_pid(&self, _k: &Kernel, pid: i32, restart: bool) {
        let mut st = self.lock();
        for s in st.sleepers.iter_mut().filter(|s| s.pid == pid && s.catch) {
            s.signal.get_or_insert(restart);
        }
        drop(st);
        self.cv.notify_all();
    }

    /// A signal for one sleeping thread. Fails with `ESRCH` if it is not sleeping
    /// interruptibly.
    pub(crate) fn signal_tid(&self, tid: u64, restart: bool) -> Result {
        let mut st = self.lock();
        let s = st
            .sleepers
            .iter_mut()
            .find(|s| s.tid == tid && s.catch)
            .ok_or(code::ESRCH)?;
        s.signal = Some(restart);
        drop(st);
        self.cv.notify_all();
        Ok(())
    }
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
    let Some(ctx) = current() else {
        drop(interlock);
        return Err(code::EINVAL);
    };
    let k = &ctx.kernel;
    let q = &k.0.sleepq;
    let ident = chan(ident);
    let catch = flags & PCATCH != 0;
    let mut st = q.lock();
    if catch {
        let pending = k.0.procs.lock().get(ctx.pid).and_then(|p| p.pending);
        if let Some(restart) = pending {
            drop(st);
            drop(interlock);
            return Err(if restart { code::ERESTART } else { code::EINTR });
        }
    }
    st.sleepers.push(Sleeper {
        tid: ctx.tid,
        pid: ctx.pid,
        ident,
        wmesg,
        woken: false,
        signal: None,
        catch,
    });
    k.emit(|| Event::Sleep { ident, wmesg });
    drop(interlock);
    q.cv.notify_all();
    if st.turn_taking {
        // Hand the turn back to the runner and wait until it resumes this thread.
        st.turn = Turn::Runner;
        q.cv.notify_all();
        while st.turn != Turn::Thread(ctx.tid) {
            st = q.wait(st);
        }
    } else {
        loop {
            let s = st.sleepers.iter().find(|s| s.tid == ctx.tid);
            match s {
                Some(s) if s.woken || s.signal.is_some() => break,
                None => break,
                _ => st = q.wait(st),
            }
        }
    }
    let pos = st.sleepers.iter().position(|s| s.tid == ctx.tid);
    let me = pos.map(|p| st.sleepers.remove(p));
    match me {
        Some(Sleeper {
            woken: false,
            signal: Some(restart),
            ..
        }) => Err(if restart { code::ERESTART } else { code::EINTR }),
        _ => Ok(()),
    }
}

/// `wakeup(ident)`: wakes every thread sleeping on `ident`. Returns how many it woke
/// (sleepers already woken and not yet run are not counted again).
pub fn wakeup<T: ?Sized>(ident: &T) -> usize {
    let ident = chan(ident);
    let Some(k) = crate::kernel::current_kernel() else {
        return 0;
    };
    let q = &k.0.sleepq;
    let mut st = q.lock();
    let mut n = 0;
    for s in st
        .sleepers
        .iter_mut()
        .filter(|s| s.ident == ident && !s.woken && s.signal.is_none())
    {
        s.woken = true;
        n += 1;
    }
    k.emit(|| Event::Wakeup { ident, woken: n });
    drop(st);
    q.cv.notify_all();
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Mutex;
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
            if k.0.sleepq.lock().sleepers.len() == 1 {
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
        assert_eq!(tsleep(&x, PCATCH, "t", 0, ()), Err(code::ERESTART));
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
            if k.0.sleepq.lock().sleepers.len() == 1 {
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
