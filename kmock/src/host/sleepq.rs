// SPDX-License-Identifier: BSD-2-Clause
//! Sleep queues: the host side of `tsleep`/`wakeup`, in thread mode (each sleeper blocks its
//! OS thread) or turn-taking mode ([`super::sched`]).
//!
//! Every thread waits on its own condition variable (its *parker*, one per OS thread), all
//! of them under the one lock of `SleepState`. A `wakeup`, a signal or a turn handoff
//! notifies only the threads it concerns, so a thousand sleepers cost nothing to a wakeup
//! of some other channel. The state is indexed so that no operation walks every sleeper:
//! sleepers by thread id, the ones still waiting by (channel, sleep order), and the ones
//! woken or signalled but not yet run in thread-id order (what a turn-taking runner picks
//! from). [`SchedStats`] counts the work done, so tests can check that it grows linearly.

use crate::platform::{Condvar, Mutex as StdMutex, MutexGuard};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::vec::Vec;

use crate::error::{code, Result};

#[derive(Debug)]
pub(crate) struct Sleeper {
    pub(crate) pid: i32,
    pub(crate) ident: usize,
    pub(crate) wmesg: &'static str,
    /// Sleep order: the sleep queue's sequence number of this sleep.
    pub(crate) seq: u64,
    pub(crate) woken: bool,
    pub(crate) signal: Option<bool>,
    pub(crate) catch: bool,
    /// The sleeping thread's own condition variable.
    pub(crate) parker: Arc<Condvar>,
}

impl Sleeper {
    fn waiting(&self) -> bool {
        !self.woken && self.signal.is_none()
    }
}

/// Whose turn it is in turn-taking mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    Runner,
    Thread(u64),
}

/// Counts of the work the sleep queues and the turn-taking scheduler did (since the kernel
/// booted): [`crate::Kernel::sched_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedStats {
    /// Condition-variable notifications sent; each goes to exactly one thread's parker.
    pub notifications: u64,
    /// Times a thread returned from waiting on its parker (spurious returns included).
    pub wakeups_taken: u64,
    /// Sleeper records looked at by `wakeup`, signals and the runnable queries.
    pub sleepers_examined: u64,
    /// Sleeps (`tsleep` calls that queued the thread).
    pub sleeps: u64,
    /// Turn handoffs in turn-taking mode (runner → thread and thread → runner).
    pub handoffs: u64,
}

pub(crate) struct SleepState {
    /// Every sleeping thread, by thread id.
    pub(crate) sleepers: HashMap<u64, Sleeper>,
    /// Sleepers neither woken nor signalled: (channel, sleep order) → thread id.
    waiting: BTreeMap<(usize, u64), u64>,
    /// Sleepers woken or signalled and not yet returned from `tsleep`, by thread id.
    runnable: BTreeSet<u64>,
    /// Who waits for a thread to sleep or finish (`kthread_spawn`/`kthread_resume`): the
    /// thread id watched → the watcher's parker.
    watchers: HashMap<u64, Arc<Condvar>>,
    /// Parkers to notify once the lock is released (see [`SleepQueues::release`]).
    pending: Vec<Arc<Condvar>>,
    next_seq: u64,
    pub(crate) turn_taking: bool,
    pub(crate) turn: Turn,
    pub(crate) finished: HashSet<u64>,
    pub(crate) stats: SchedStats,
}

/// The kernel's sleep queues.
pub(crate) struct SleepQueues {
    pub(crate) state: StdMutex<SleepState>,
}

#[cfg(not(loom))]
std::thread_local! {
    static PARKER: Arc<Condvar> = Arc::new(Condvar::new());
}

#[cfg(loom)]
crate::platform::thread_local! {
    static PARKER: Arc<Condvar> = Arc::new(Condvar::new());
}

/// The calling thread's parker: the condition variable it waits on under the sleep
/// queues' lock (made once per thread, so sleeping allocates nothing).
pub(crate) fn parker() -> Arc<Condvar> {
    PARKER.with(Arc::clone)
}

impl SleepState {
    /// Queues the calling thread `tid` as asleep on `ident`.
    pub(crate) fn push(
        &mut self,
        tid: u64,
        pid: i32,
        ident: usize,
        wmesg: &'static str,
        catch: bool,
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.waiting.insert((ident, seq), tid);
        self.stats.sleeps += 1;
        self.sleepers.insert(
            tid,
            Sleeper {
                pid,
                ident,
                wmesg,
                seq,
                woken: false,
                signal: None,
                catch,
                parker: parker(),
            },
        );
    }

    /// Takes thread `tid` off the sleep queues (it returns from `tsleep`).
    pub(crate) fn remove(&mut self, tid: u64) -> Option<Sleeper> {
        let s = self.sleepers.remove(&tid)?;
        if s.waiting() {
            self.waiting.remove(&(s.ident, s.seq));
        }
        self.runnable.remove(&tid);
        Some(s)
    }

    /// Whether `tid` is asleep and woken or signalled.
    pub(crate) fn runnable(&mut self, tid: u64) -> bool {
        self.stats.sleepers_examined += 1;
        self.runnable.contains(&tid)
    }

    /// The smallest thread id ≥ `from` asleep and woken or signalled.
    pub(crate) fn next_runnable(&mut self, from: u64) -> Option<u64> {
        self.stats.sleepers_examined += 1;
        self.runnable.range(from..).next().copied()
    }

    /// Notifies one thread's parker, once the lock is released: a thread notified under
    /// the lock would wake only to block on it.
    fn notify(stats: &mut SchedStats, pending: &mut Vec<Arc<Condvar>>, cv: &Arc<Condvar>) {
        stats.notifications += 1;
        pending.push(cv.clone());
    }

    /// Notifies the sleeping thread `tid` (in thread mode only: in turn-taking mode a
    /// sleeper waits for its turn, not for its wakeup).
    fn notify_sleeper(&mut self, tid: u64) {
        if self.turn_taking {
            return;
        }
        if let Some(s) = self.sleepers.get(&tid) {
            Self::notify(&mut self.stats, &mut self.pending, &s.parker);
        }
    }

    /// Notifies whoever waits for thread `tid` to sleep or finish.
    pub(crate) fn notify_watcher(&mut self, tid: u64) {
        if let Some(cv) = self.watchers.get(&tid) {
            Self::notify(&mut self.stats, &mut self.pending, cv);
        }
    }

    /// Gives the turn to sleeping thread `tid` and notifies it.
    pub(crate) fn hand_turn_to(&mut self, tid: u64) {
        self.turn = Turn::Thread(tid);
        self.stats.handoffs += 1;
        if let Some(s) = self.sleepers.get(&tid) {
            Self::notify(&mut self.stats, &mut self.pending, &s.parker);
        }
    }

    /// Gives the turn back to the runner waiting for thread `tid`.
    pub(crate) fn hand_turn_back(&mut self, tid: u64) {
        self.turn = Turn::Runner;
        self.stats.handoffs += 1;
        self.notify_watcher(tid);
    }

    /// Registers the calling thread as waiting for `tid` to sleep or finish; returns its
    /// parker.
    pub(crate) fn watch(&mut self, tid: u64) -> Arc<Condvar> {
        let p = parker();
        self.watchers.insert(tid, p.clone());
        p
    }

    pub(crate) fn unwatch(&mut self, tid: u64) {
        self.watchers.remove(&tid);
    }

    /// Marks sleeper `tid` signalled (`overwrite`: even if it already was).
    fn signal(&mut self, tid: u64, restart: bool, overwrite: bool) {
        let Some(s) = self.sleepers.get_mut(&tid) else {
            return;
        };
        if s.waiting() {
            self.waiting.remove(&(s.ident, s.seq));
        }
        if overwrite {
            s.signal = Some(restart);
        } else {
            s.signal.get_or_insert(restart);
        }
        self.runnable.insert(tid);
        self.notify_sleeper(tid);
    }

    /// `wakeup(ident)`: marks every sleeper on `ident` not yet woken or signalled, in sleep
    /// order; returns how many.
    pub(crate) fn wakeup(&mut self, ident: usize) -> usize {
        let mut n = 0;
        while let Some((&key, &tid)) = self.waiting.range((ident, 0)..=(ident, u64::MAX)).next() {
            self.waiting.remove(&key);
            self.stats.sleepers_examined += 1;
            if let Some(s) = self.sleepers.get_mut(&tid) {
                s.woken = true;
                self.runnable.insert(tid);
                n += 1;
                self.notify_sleeper(tid);
            }
        }
        n
    }
}

impl SleepQueues {
    pub(crate) fn new() -> Self {
        SleepQueues {
            state: StdMutex::new(SleepState {
                sleepers: HashMap::new(),
                waiting: BTreeMap::new(),
                runnable: BTreeSet::new(),
                watchers: HashMap::new(),
                pending: Vec::new(),
                next_seq: 0,
                turn_taking: false,
                turn: Turn::Runner,
                finished: HashSet::new(),
                stats: SchedStats::default(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SleepState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Releases the lock, then sends the notifications decided under it.
    pub(crate) fn release(mut g: MutexGuard<'_, SleepState>) {
        match g.pending.len() {
            0 => drop(g),
            1 => {
                let cv = g.pending.pop();
                drop(g);
                if let Some(cv) = cv {
                    cv.notify_one();
                }
            }
            _ => {
                let v = std::mem::take(&mut g.pending);
                drop(g);
                for cv in v {
                    cv.notify_one();
                }
            }
        }
    }

    /// Waits on `parker` (the calling thread's own), releasing the lock meanwhile.
    pub(crate) fn wait<'a>(
        parker: &Condvar,
        g: MutexGuard<'a, SleepState>,
    ) -> MutexGuard<'a, SleepState> {
        let mut g = parker.wait(g).unwrap_or_else(|e| e.into_inner());
        g.stats.wakeups_taken += 1;
        g
    }

    /// A signal for process `pid`: every interruptible sleeper of it is marked (this walks
    /// the sleepers: signals to processes are rare; a job's signal is [`Self::signal_tid`]).
    pub(crate) fn signal_pid(&self, pid: i32, restart: bool) {
        let mut st = self.lock();
        st.stats.sleepers_examined += st.sleepers.len() as u64;
        let tids: Vec<u64> = st
            .sleepers
            .iter()
            .filter(|(_, s)| s.pid == pid && s.catch)
            .map(|(t, _)| *t)
            .collect();
        for tid in tids {
            st.signal(tid, restart, false);
        }
        Self::release(st);
    }

    /// A signal for one sleeping thread. Fails with `ESRCH` if it is not sleeping
    /// interruptibly.
    pub(crate) fn signal_tid(&self, tid: u64, restart: bool) -> Result {
        let mut st = self.lock();
        st.stats.sleepers_examined += 1;
        if !st.sleepers.get(&tid).is_some_and(|s| s.catch) {
            return Err(code::ESRCH);
        }
        st.signal(tid, restart, true);
        Self::release(st);
        Ok(())
    }
}
