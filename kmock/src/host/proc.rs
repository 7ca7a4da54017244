// SPDX-License-Identifier: BSD-2-Clause
//! The process table: pids, process groups, sessions, uids, pending and delivered signals.

use std::collections::BTreeMap;
use std::vec::Vec;

use super::ring::Ring;
use crate::bsd::cred::Ucred;
use crate::error::{code, Result};

/// `maxproc`: how many processes the table holds.
pub const MAXPROC: usize = 4096;

/// How many received signals each process's record keeps (the newest; older ones are
/// counted): [`crate::Kernel::proc_signals`].
pub const SIGNALS_KEPT: usize = 1000;

#[derive(Clone, Debug)]
pub(crate) struct Proc {
    pub(crate) pid: i32,
    pub(crate) pgrp: i32,
    pub(crate) sess: i32,
    pub(crate) uid: u32,
    /// A pending signal: `Some(restart)` (SA_RESTART or not).
    pub(crate) pending: Option<bool>,
    /// Signals delivered: the newest, up to the table's limit, and a count of the others.
    pub(crate) received: Ring<i32>,
}

impl Proc {
    pub(crate) fn cred(&self) -> Ucred {
        Ucred {
            cr_uid: self.uid,
            cr_gid: 0,
        }
    }

    pub(crate) fn info(&self) -> ProcInfo {
        ProcInfo {
            pid: self.pid,
            pgrp: self.pgrp,
            sess: self.sess,
            cred: self.cred(),
        }
    }
}

/// What the API learns about a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcInfo {
    /// Process id.
    pub pid: i32,
    /// Process group.
    pub pgrp: i32,
    /// Session.
    pub sess: i32,
    /// Credentials.
    pub cred: Ucred,
}

pub(crate) struct ProcTable {
    procs: BTreeMap<i32, Proc>,
    /// How many received signals each process keeps.
    signal_limit: usize,
}

impl Default for ProcTable {
    fn default() -> Self {
        ProcTable {
            procs: BTreeMap::new(),
            signal_limit: SIGNALS_KEPT,
        }
    }
}

impl ProcTable {
    /// Keeps at most `limit` received signals per process, now and for new processes.
    pub(crate) fn set_signal_limit(&mut self, limit: usize) {
        self.signal_limit = limit;
        for p in self.procs.values_mut() {
            p.received.set_limit(limit);
        }
    }

    pub(crate) fn set(&mut self, pid: i32, pgrp: i32, sess: i32, uid: u32) -> Result {
        if pid <= 0 || pgrp <= 0 {
            return Err(code::EINVAL);
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            p.pgrp = pgrp;
            p.sess = sess;
            p.uid = uid;
            return Ok(());
        }
        if self.procs.len() >= MAXPROC {
            return Err(code::EAGAIN);
        }
        self.procs.insert(
            pid,
            Proc {
                pid,
                pgrp,
                sess,
                uid,
                pending: None,
                received: Ring::new(self.signal_limit),
            },
        );
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.procs.len()
    }

    pub(crate) fn get(&self, pid: i32) -> Option<&Proc> {
        self.procs.get(&pid)
    }

    pub(crate) fn get_mut(&mut self, pid: i32) -> Option<&mut Proc> {
        self.procs.get_mut(&pid)
    }

    pub(crate) fn pgrp_members(&self, pgrp: i32) -> Vec<i32> {
        self.procs
            .values()
            .filter(|p| p.pgrp == pgrp)
            .map(|p| p.pid)
            .collect()
    }

    pub(crate) fn pgrp_session(&self, pgrp: i32) -> Option<i32> {
        self.procs.values().find(|p| p.pgrp == pgrp).map(|p| p.sess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_groups() {
        let mut t = ProcTable::default();
        t.set(201, 500, 1, 0).unwrap();
        t.set(200, 500, 1, 0).unwrap();
        t.set(300, 300, 2, 0).unwrap();
        assert_eq!(t.pgrp_members(500), vec![200, 201]);
        assert_eq!(t.pgrp_session(300), Some(2));
        assert_eq!(t.pgrp_session(9), None);
        assert_eq!(t.set(0, 1, 1, 0), Err(code::EINVAL));
    }
}
