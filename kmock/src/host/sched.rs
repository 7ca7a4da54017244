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
//!
//! The OS threads are pooled per kernel (`host::workers`): a finished kernel thread leaves
//! its OS thread idle for the next [`Kernel::kthread_spawn`].

use std::boxed::Box;
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::vec::Vec;

use super::kernel::{new_tid, Kernel};
pub use super::sleepq::SchedStats;
use super::sleepq::{SleepQueues, Turn};
use crate::error::{code, Result};

/// A kernel thread started with [`Kernel::kthread_spawn`].
pub struct Kthread<T> {
    tid: u64,
    result: Arc<StdMutex<Option<T>>>,
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
            // Watch the thread from before it starts, so that its handoff always notifies.
            let mut st = self.0.sleepq.lock();
            st.turn = Turn::Thread(tid);
            st.watch(tid);
        }
        self.0.workers.run(Box::new(move |go_idle: &dyn Fn()| {
            let ctx = k.enter_as(pid, tid);
            let v = f();
            *r2.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
            drop(ctx);
            go_idle();
            let mut st = k.0.sleepq.lock();
            st.finished.insert(tid);
            st.hand_turn_back(tid);
            SleepQueues::release(st);
        }));
        let mut th = Kthread { tid, result };
        let state = self.wait_turn(&mut th);
        (th, state)
    }

    /// Waits (on the calling thread's own parker) until `th` has slept or finished.
    fn wait_turn<T>(&self, th: &mut Kthread<T>) -> KthreadState<T> {
        let mut st = self.0.sleepq.lock();
        let me = st.watch(th.tid);
        loop {
            if st.turn == Turn::Runner || !st.turn_taking || st.finished.contains(&th.tid) {
                if st.finished.remove(&th.tid) {
                    st.unwatch(th.tid);
                    drop(st);
                    let v = th.result.lock().unwrap_or_else(|e| e.into_inner()).take();
                    return match v {
                        Some(v) => KthreadState::Done(v),
                        None => KthreadState::Sleeping,
                    };
                }
                if st.sleepers.contains_key(&th.tid) {
                    st.unwatch(th.tid);
                    return KthreadState::Sleeping;
                }
            }
            st = SleepQueues::wait(&me, st);
        }
    }

    /// OS threads started for kernel threads so far (the rest ran on idle ones).
    pub fn kthread_os_threads(&self) -> u64 {
        self.0.workers.started()
    }

    /// Whether kernel thread `tid` is asleep and has been woken or signalled (so resuming
    /// it makes progress).
    pub fn kthread_runnable(&self, tid: u64) -> bool {
        self.0.sleepq.lock().runnable(tid)
    }

    /// The smallest id ≥ `from` of a sleeping kernel thread that has been woken or
    /// signalled: what a runner resuming woken threads in order (oldest first, as thread
    /// ids grow with each spawn) runs next, without looking at the others.
    pub fn kthread_next_runnable(&self, from: u64) -> Option<u64> {
        self.0.sleepq.lock().next_runnable(from)
    }

    /// Counts of the scheduling work done in this kernel so far (notifications, sleeper
    /// records examined, sleeps, turn handoffs).
    pub fn sched_stats(&self) -> SchedStats {
        self.0.sleepq.lock().stats
    }

    /// Whether kernel thread `tid` is asleep.
    pub fn kthread_sleeping(&self, tid: u64) -> bool {
        self.0.sleepq.lock().sleepers.contains_key(&tid)
    }

    /// The wait channels and messages of every sleeping thread, in sleep order.
    pub fn sleepers(&self) -> Vec<(u64, usize, &'static str)> {
        let st = self.0.sleepq.lock();
        let mut v: Vec<(u64, u64, usize, &'static str)> = st
            .sleepers
            .iter()
            .map(|(tid, s)| (s.seq, *tid, s.ident, s.wmesg))
            .collect();
        drop(st);
        v.sort_unstable_by_key(|s| s.0);
        v.into_iter().map(|(_, t, i, w)| (t, i, w)).collect()
    }

    /// Gives the turn to sleeping kernel thread `th` and waits until it finishes or sleeps
    /// again. Fails with `EINVAL` if it is not asleep.
    pub fn kthread_resume<T>(&self, th: &mut Kthread<T>) -> Result<KthreadState<T>> {
        {
            let mut st = self.0.sleepq.lock();
            if !st.sleepers.contains_key(&th.tid) {
                return Err(code::EINVAL);
            }
            st.watch(th.tid);
            st.hand_turn_to(th.tid);
            SleepQueues::release(st);
        }
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
    fn finished_kernel_threads_leave_their_os_thread_to_the_next() {
        let k = Kernel::new();
        k.set_turn_taking(true);
        for i in 0..100 {
            let (_th, st) = k.kthread_spawn(1, move || i * 2);
            assert_eq!(st, KthreadState::Done(i * 2));
        }
        // The worker is idle before it hands the turn back: one OS thread ran all 100.
        assert_eq!(k.kthread_os_threads(), 1);
        // Sleepers each hold a thread of their own.
        k.proc_set(1, 1, 1, 0).unwrap();
        let chan = Arc::new(0u32);
        let mut ths = Vec::new();
        for _ in 0..5 {
            let c = chan.clone();
            ths.push(
                k.kthread_spawn(1, move || tsleep(&*c, PCATCH, "t", 0, ()))
                    .0,
            );
        }
        assert!(k.kthread_os_threads() >= 5);
        for th in &mut ths {
            k.kthread_interrupt(th.tid(), false).unwrap();
            assert!(matches!(
                k.kthread_resume(th),
                Ok(KthreadState::Done(Err(_)))
            ));
        }
    }

    #[test]
    fn a_thread_that_never_sleeps_is_done_at_once() {
        let k = Kernel::new();
        k.set_turn_taking(true);
        let (_th, st) = k.kthread_spawn(1, || 42);
        assert_eq!(st, KthreadState::Done(42));
    }

    #[test]
    fn a_wakeup_notifies_only_its_own_sleepers() {
        // Thread mode: 8 threads asleep on one channel, 1 on another.
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        let (a, b) = (Arc::new(0u8), Arc::new(0u8));
        let mut hs = Vec::new();
        for i in 0..9 {
            let (k2, c) = (k.clone(), if i < 8 { a.clone() } else { b.clone() });
            hs.push(std::thread::spawn(move || {
                let _ctx = k2.enter(1);
                tsleep(&*c, 0, "t", 0, ())
            }));
        }
        while k.sleepers().len() < 9 {
            std::thread::yield_now();
        }
        let before = k.sched_stats();
        {
            let _ctx = k.enter(1);
            assert_eq!(wakeup(&*b), 1);
        }
        let after = k.sched_stats();
        assert_eq!(after.notifications - before.notifications, 1);
        assert_eq!(after.sleepers_examined - before.sleepers_examined, 1);
        hs.pop().unwrap().join().unwrap().unwrap();
        assert_eq!(k.sleepers().len(), 8);
        {
            let _ctx = k.enter(1);
            assert_eq!(wakeup(&*a), 8);
        }
        for h in hs {
            h.join().unwrap().unwrap();
        }
        assert!(k.sleepers().is_empty());
    }

    #[test]
    fn resuming_one_of_many_turn_taking_sleepers_notifies_two_threads() {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        k.set_turn_taking(true);
        let chan = Arc::new(0u32);
        let mut ths = Vec::new();
        for _ in 0..20 {
            let c = chan.clone();
            let (th, st) = k.kthread_spawn(1, move || tsleep(&*c, PCATCH, "t", 0, ()));
            assert_eq!(st, KthreadState::Sleeping);
            ths.push(th);
        }
        let s0 = k.sched_stats();
        {
            let _ctx = k.enter(1);
            assert_eq!(wakeup(&*chan), 20);
        }
        // In turn-taking mode a wakeup notifies nobody: the runner picks who runs.
        assert_eq!(k.sched_stats().notifications, s0.notifications);
        assert_eq!(k.kthread_next_runnable(0), Some(ths[0].tid()));
        assert_eq!(k.kthread_next_runnable(ths[3].tid()), Some(ths[3].tid()));
        let s1 = k.sched_stats();
        let last = ths.last_mut().unwrap();
        assert_eq!(k.kthread_resume(last).unwrap(), KthreadState::Done(Ok(())));
        let s2 = k.sched_stats();
        // The handoff to the thread and back to the runner.
        assert_eq!(s2.notifications - s1.notifications, 2);
        assert_eq!(s2.handoffs - s1.handoffs, 2);
        for th in &mut ths[..19] {
            assert_eq!(k.kthread_resume(th).unwrap(), KthreadState::Done(Ok(())));
        }
        assert_eq!(k.kthread_next_runnable(0), None);
    }

    #[test]
    fn sleepers_are_listed_in_sleep_order() {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        k.set_turn_taking(true);
        let mut ths = Vec::new();
        for i in 0..5usize {
            let (th, _) = k.kthread_spawn(1, move || {
                let x = i;
                tsleep(&x, PCATCH, "t", 0, ())
            });
            ths.push(th);
        }
        // Signalled and resumed out of order: the list keeps the order of the sleeps.
        k.kthread_interrupt(ths[2].tid(), false).unwrap();
        assert!(k.kthread_runnable(ths[2].tid()));
        assert!(k.kthread_resume(&mut ths[2]).is_ok());
        let tids: Vec<u64> = k.sleepers().iter().map(|s| s.0).collect();
        let want: Vec<u64> = [0, 1, 3, 4].iter().map(|&i| ths[i].tid()).collect();
        assert_eq!(tids, want);
        for i in [0, 1, 3, 4] {
            k.kthread_interrupt(ths[i].tid(), false).unwrap();
            let _ = k.kthread_resume(&mut ths[i]);
        }
        assert!(k.sleepers().is_empty());
    }
}
