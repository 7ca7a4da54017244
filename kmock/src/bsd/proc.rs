//! Processes, process groups and sessions: the slice of `struct proc` the tun driver and
//! its callers see (`curproc->p_pid`, credentials, the session `fsetown` checks, pending
//! signals).
//!
//! The current process is the one the calling thread entered with
//! [`crate::Kernel::enter`]; [`curproc`] returns it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::bsd::cred::Ucred;
use crate::error::{code, Result};

/// The most processes one kernel holds (a bound, so user input cannot exhaust memory).
pub const MAXPROC: usize = 4096;

/// One process.
#[derive(Clone, Debug)]
pub(crate) struct Proc {
    pub(crate) pid: i32,
    pub(crate) pgrp: i32,
    pub(crate) sess: i32,
    pub(crate) uid: u32,
    /// A pending signal: `Some(restart)` where `restart` asks for `ERESTART`.
    pub(crate) pending: Option<bool>,
    pub(crate) received: Vec<i32>,
}

impl Proc {
    pub(crate) fn cred(&self) -> Ucred {
        Ucred {
            cr_uid: self.uid,
            cr_gid: 0,
        }
    }
}

/// The process table.
#[derive(Default)]
pub(crate) struct ProcTable {
    procs: BTreeMap<i32, Proc>,
}

impl ProcTable {
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
                received: Vec::new(),
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

    /// Members of process group `pgrp`, ascending pid.
    pub(crate) fn pgrp_members(&self, pgrp: i32) -> Vec<i32> {
        self.procs
            .values()
            .filter(|p| p.pgrp == pgrp)
            .map(|p| p.pid)
            .collect()
    }

    /// The session of process group `pgrp` (of its first member), if the group exists.
    pub(crate) fn pgrp_session(&self, pgrp: i32) -> Option<i32> {
        self.procs.values().find(|p| p.pgrp == pgrp).map(|p| p.sess)
    }
}

/// What a driver may know of the current process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurProc {
    /// `p_pid`.
    pub p_pid: i32,
    /// `p_ucred`.
    pub p_ucred: Ucred,
}

/// `curproc`: the calling thread's process, or `None` outside any kernel context.
pub fn curproc() -> Option<CurProc> {
    let ctx = crate::kernel::current()?;
    let procs = ctx.kernel.0.procs.lock();
    let cred = procs.get(ctx.pid).map(|p| p.cred()).unwrap_or_default();
    Some(CurProc {
        p_pid: ctx.pid,
        p_ucred: cred,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;

    #[test]
    fn curproc_follows_the_entered_context() {
        let k = Kernel::new();
        k.proc_set(100, 100, 1, 0).unwrap();
        k.proc_set(200, 500, 1, 1000).unwrap();
        assert!(curproc().is_none());
        let _a = k.enter(100);
        assert_eq!(curproc().unwrap().p_pid, 100);
        {
            let _b = k.enter(200);
            let p = curproc().unwrap();
            assert_eq!((p.p_pid, p.p_ucred.cr_uid), (200, 1000));
        }
        assert_eq!(curproc().unwrap().p_pid, 100);
    }

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
