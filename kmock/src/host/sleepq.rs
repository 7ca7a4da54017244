// SPDX-License-Identifier: BSD-2-Clause
//! Sleep queues: the host side of `tsleep`/`wakeup`, in thread mode (each sleeper blocks its
//! OS thread) or turn-taking mode ([`super::sched`]).

use crate::platform::{Condvar, Mutex as StdMutex, MutexGuard};
use std::vec::Vec;

use crate::error::{code, Result};

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
    pub(crate) fn signal_pid(&self, pid: i32, restart: bool) {
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
