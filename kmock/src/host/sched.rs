// SPDX-License-Identifier: BSD-2-Clause
//! Turn-taking kernel threads: deterministic runs for scenario runners and tests.
//!
//! In turn-taking mode exactly one kernel thread runs at a time. The *runner* (the thread
//! that calls [`Kernel::kthread_spawn`]) starts a kernel thread and waits until that thread
//! either finishes or sleeps in [`crate::bsd::sleep::tsleep`]; a sleeping thread gives the
//! turn back. `wakeup` only marks sleepers woken; the runner decides when each woken thread
//! runs again ([`Kernel::kthread_resume`]). Every kernel thread is a real OS thread and
//! sleeps through the real sleep queue: only the choice of who runs is taken away from the
//! OS scheduler.

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::thread::JoinHandle;
use std::vec::Vec;

use super::kernel::{new_tid, Kernel};
use super::sleepq::Turn;
use crate::error::{code, Result};

/// A kernel thread started with [`Kernel::kthread_spawn`].
pub struct Kthread<T> {
    tid: u64,
    result: Arc<StdMutex<Option<T>>>,
    join: Option<JoinHandle<()>>,
}

/// Where a kernel thread stands when the turn comes back to the runner.
#[derive(Debug, PartialEq, Eq)]
pub enum KthreadState<T> {
    /// It returned this value.
    Done(T),
    /// It is asleep in `tsleep`.
    Sleeping,
}

impl<T> Kthread<T> {
    /// The thread's identifier (what [`Kernel::kthread_interrupt`] takes).
    pub fn tid(&self) -> u64 {
        self.tid
    }
}

impl Kernel {
    /// Switches turn-taking mode on or off. Switch it only while no kernel thread sleeps.
    pub fn set_turn_taking(&self, on: bool) {
        let mut st = self.0.sleepq.lock();
        st.turn_taking = on;
        st.turn = Turn::Runner;
    }

    /// Starts `f` as a kernel thread of process `pid` and waits until it finishes or sleeps.
    /// In turn-taking mode only; otherwise the thread just runs and this waits for it to
    /// finish or sleep all the same.
    pub fn kthread_spawn<T, F>(&self, pid: i32, f: F) -> (Kthread<T>, KthreadState<T>)
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let tid = new_tid();
        let result = Arc::new(StdMutex::new(None));
        let k = self.clone();
        let r2 = result.clone();
        {
            let mut st = self.0.sleepq.lock();
            st.turn = Turn::Thread(tid);
        }
        let join = std::thread::spawn(move || {
            let _ctx = k.enter_as(pid, tid);
            let v = f();
            *r2.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
            let mut st = k.0.sleepq.lock();
            st.finished.push(tid);
            st.turn = Turn::Runner;
            drop(st);
            k.0.sleepq.cv.notify_all();
        });
        let mut th = Kthread {
            tid,
            result,
            join: Some(join),
        };
        let state = self.wait_turn(&mut th);
        (th, state)
    }

    fn wait_turn<T>(&self, th: &mut Kthread<T>) -> KthreadState<T> {
        let q = &self.0.sleepq;
        let mut st = q.lock();
        loop {
            if st.turn == Turn::Runner || !st.turn_taking || st.finished.contains(&th.tid) {
                if let Some(p) = st.finished.iter().position(|t| *t == th.tid) {
                    st.finished.remove(p);
                    drop(st);
                    if let Some(j) = th.join.take() {
                        let _ = j.join();
                    }
                    let v = th.result.lock().unwrap_or_else(|e| e.into_inner()).take();
                    return match v {
                        Some(v) => KthreadState::Done(v),
                        None => KthreadState::Sleeping,
                    };
                }
                if st.sleepers.iter().any(|s| s.tid == th.tid) {
                    return KthreadState::Sleeping;
                }
            }
            st = q.wait(st);
        }
    }

    /// Whether kernel thread `tid` is asleep and has been woken or signalled (so resuming
    /// it makes progress).
    pub fn kthread_runnable(&self, tid: u64) -> bool {
        self.0
            .sleepq
            .lock()
            .sleepers
            .iter()
            .any(|s| s.tid == tid && (s.woken || s.signal.is_some()))
    }

    /// Whether kernel thread `tid` is asleep.
    pub fn kthread_sleeping(&self, tid: u64) -> bool {
        self.0.sleepq.lock().sleepers.iter().any(|s| s.tid == tid)
    }

    /// The wait channels and messages of every sleeping thread, in sleep order.
    pub fn sleepers(&self) -> Vec<(u64, usize, &'static str)> {
        self.0
            .sleepq
            .lock()
            .sleepers
            .iter()
            .map(|s| (s.tid, s.ident, s.wmesg))
            .collect()
    }

    /// Gives the turn to sleeping kernel thread `th` and waits until it finishes or sleeps
    /// again. Fails with `EINVAL` if it is not asleep.
    pub fn kthread_resume<T>(&self, th: &mut Kthread<T>) -> Result<KthreadState<T>> {
        {
            let mut st = self.0.sleepq.lock();
            if !st.sleepers.iter().any(|s| s.tid == th.tid) {
                return Err(code::EINVAL);
            }
            st.turn = Turn::Thread(th.tid);
        }
        self.0.sleepq.cv.notify_all();
        Ok(self.wait_turn(th))
    }

    /// Delivers a signal to sleeping kernel thread `tid`: its `PCATCH` sleep will return
    /// `EINTR` (`ERESTART` if `restart`). Fails with `ESRCH` if it is not sleeping
    /// interruptibly.
    pub fn kthread_interrupt(&self, tid: u64, restart: bool) -> Result {
        self.0.sleepq.signal_tid(tid, restart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bsd::errno::ERESTART;
    use crate::bsd::sleep::{tsleep, wakeup, PCATCH};
    use std::sync::Arc;

    #[test]
    fn a_sleeping_thread_hands_the_turn_back_and_runs_when_resumed() {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        k.set_turn_taking(true);
        let chan = Arc::new(0u32);
        let c2 = chan.clone();
        let (mut th, st) = k.kthread_spawn(1, move || tsleep(&*c2, PCATCH, "t", 0, ()));
        assert_eq!(st, KthreadState::Sleeping);
        assert!(!k.kthread_runnable(th.tid()));
        {
            let _ctx = k.enter(1);
            assert_eq!(wakeup(&*chan), 1);
        }
        assert!(k.kthread_runnable(th.tid()));
        assert_eq!(
            k.kthread_resume(&mut th).unwrap(),
            KthreadState::Done(Ok(()))
        );
    }

    #[test]
    fn interrupting_a_sleeper() {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        k.set_turn_taking(true);
        let (mut th, st) = k.kthread_spawn(1, move || {
            let x = 0u8;
            tsleep(&x, PCATCH, "t", 0, ())
        });
        assert_eq!(st, KthreadState::Sleeping);
        k.kthread_interrupt(th.tid(), true).unwrap();
        assert_eq!(
            k.kthread_resume(&mut th).unwrap(),
            KthreadState::Done(Err(ERESTART))
        );
        assert!(k.kthread_resume(&mut th).is_err());
    }

    #[test]
    fn a_thread_that_never_sleeps_is_done_at_once() {
        let k = Kernel::new();
        k.set_turn_taking(true);
        let (_th, st) = k.kthread_spawn(1, || 42);
        assert_eq!(st, KthreadState::Done(42));
    }
}
